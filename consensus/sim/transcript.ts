/**
 * Transcript tests in the style of etcd-io/raft's datadriven testdata: a file is a list of
 * commands, each followed by `----` and the output it must produce, so a scenario reads as
 * a story of who sent what to whom and how each server's role changed. The interpreter
 * drives a TestNetwork (in-memory, deterministic); transcript.test.ts compares outputs.
 *
 * Commands (ids are server names):
 *   cluster n1 n2 n3 [spares=n4,n5] [prevote=false] [checkquorum=false] [seed=N]
 *   campaign n1 | tick n1 [count] | tick-all [count]
 *   stabilize            deliver until quiet, printing every message and role change
 *   propose n1 DATA | barrier n1
 *   read-index n1 CTX | reads n1
 *   transfer n1 [n2] | add-nonvoter n1 n4 | promote n1 n4 | remove n1 n3
 *   snapshot n1 [compact=INDEX]
 *   isolate n1 | cut n1 n2 | heal | crash n1 | restart n1
 *   status [n1 ...] | log n1
 */
import type { ConfigChange } from '../core/configuration.js';
import type { Message } from '../core/messages.js';
import type { Proposal } from '../core/proposals.js';
import type { CoreTuning } from '../core/test-network.js';
import { describeEntries, TestNetwork } from '../core/test-network.js';

export interface TranscriptCase {
  /** 1-based line of the command in its file. */
  line: number;
  command: string;
  expected: string;
}

/** Splits a transcript file into commands and their expected output. */
export function parseTranscript(text: string): TranscriptCase[] {
  const lines = text.split('\n');
  const cases: TranscriptCase[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.trim() === '' || l.startsWith('#')) {
      i++;
      continue;
    }
    const line = i + 1;
    const command = l.trim();
    if (lines[i + 1] !== '----') throw new Error(`line ${line + 1}: expected '----' after the command`);
    i += 2;
    const out: string[] = [];
    while (i < lines.length && lines[i] !== '') out.push(lines[i++]!);
    cases.push({ line, command, expected: out.join('\n') });
  }
  return cases;
}

/** Renders cases back into a file (to rewrite expectations after a deliberate change). */
export function formatTranscript(header: string, cases: ReadonlyArray<TranscriptCase & { actual: string }>): string {
  return `${header}${cases.map((c) => `${c.command}\n----\n${c.actual}\n`).join('\n')}`;
}

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'vote':
      return `${head} last=${m.lastLogIndex}/${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`;
    case 'preVote':
      return `${head} last=${m.lastLogIndex}/${m.lastLogTerm}`;
    case 'voteResp':
    case 'preVoteResp':
      return `${head} ${m.reject ? 'rejected' : 'granted'}`;
    case 'app':
      return `${head} prev=${m.prevIndex}/${m.prevTerm} commit=${m.commit} entries=[${describeEntries(m.entries).join(' ')}]`;
    case 'appResp':
      return m.reject ? `${head} rejected prev=${m.index} hint=${m.rejectHint}/${m.hintTerm}` : `${head} index=${m.index}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${m.ctx > 0 ? ` read=${m.ctx}` : ''}`;
    case 'heartbeatResp':
      return `${head}${m.ctx > 0 ? ` read=${m.ctx}` : ''}`;
    case 'snap':
      return `${head} snapshot=${m.snapshot.index}/${m.snapshot.term} config=[${m.snapshot.configuration.servers.map((s) => s.id).join(' ')}]`;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} ctx=${m.ctx}`;
    case 'readIndexResp':
      return `${head} ctx=${m.ctx} ${m.reject ? 'rejected' : `index=${m.index}`}`;
  }
}

export class TranscriptRunner {
  private net: TestNetwork | null = null;
  private out: string[] = [];
  private roles = new Map<string, string>();

  run(command: string): string {
    this.out = [];
    const [name = '', ...args] = command.split(/\s+/);
    const named = Object.fromEntries(args.filter((a) => a.includes('=')).map((a) => a.split('=', 2) as [string, string]));
    const pos = args.filter((a) => !a.includes('='));
    switch (name) {
      case 'cluster':
        this.cluster(pos, named);
        break;
      case 'campaign':
        this.print(`${pos[0]}: campaign -> ${this.net!.core(this.id(pos[0])).campaign()}`);
        this.noteRoles();
        break;
      case 'tick':
        this.network().tick(this.id(pos[0]), Number(pos[1] ?? 1));
        this.noteRoles();
        break;
      case 'tick-all':
        for (let i = 0; i < Number(pos[0] ?? 1); i++) for (const n of this.network().nodes.values()) n.core?.tick();
        this.noteRoles();
        break;
      case 'stabilize':
        this.stabilize();
        break;
      case 'propose':
        this.proposal(pos[0], this.core(pos[0]).propose(new TextEncoder().encode(pos[1] ?? '')));
        break;
      case 'barrier':
        this.proposal(pos[0], this.core(pos[0]).proposeBarrier());
        break;
      case 'read-index':
        this.print(`${pos[0]}: read-index ${pos[1]} -> ${this.core(pos[0]).readIndex(Number(pos[1]))}`);
        break;
      case 'reads':
        for (const r of this.network().node(this.id(pos[0])).reads) this.print(`ctx=${r.ctx} ${r.ok ? `index=${r.index}` : 'failed'}`);
        break;
      case 'transfer':
        this.proposal(pos[0], this.core(pos[0]).transferLeadership(pos[1]));
        break;
      case 'add-nonvoter':
        this.change(pos[0], { type: 'addNonVoter', id: this.id(pos[1]), address: `${pos[1]}.test:4647` });
        break;
      case 'promote':
        this.change(pos[0], { type: 'promote', id: this.id(pos[1]) });
        break;
      case 'remove':
        this.change(pos[0], { type: 'remove', id: this.id(pos[1]) });
        break;
      case 'snapshot': {
        const compact = named['compact'];
        const index = this.network().snapshot(this.id(pos[0]), compact === undefined ? undefined : Number(compact));
        this.print(`${pos[0]}: snapshot at ${index}, log starts at ${this.core(pos[0]).log.firstIndex()}`);
        break;
      }
      case 'isolate':
        this.network().isolate(this.id(pos[0]));
        break;
      case 'cut':
        this.network().cut(this.id(pos[0]), this.id(pos[1]));
        break;
      case 'heal':
        this.network().recover();
        break;
      case 'crash':
        this.network().crash(this.id(pos[0]));
        this.roles.set(this.id(pos[0]), 'down');
        break;
      case 'restart':
        this.network().restart(this.id(pos[0]));
        this.noteRoles();
        break;
      case 'status':
        for (const id of pos.length > 0 ? pos : [...this.network().nodes.keys()]) this.print(this.status(id));
        break;
      case 'log':
        this.print(`${pos[0]}: ${this.logOf(this.id(pos[0]))}`);
        break;
      default:
        throw new Error(`unknown command ${JSON.stringify(name)}`);
    }
    return this.out.length === 0 ? 'ok' : this.out.join('\n');
  }

  private cluster(ids: string[], named: Record<string, string>): void {
    const core: CoreTuning = {};
    if (named['prevote'] !== undefined) core.preVote = named['prevote'] === 'true';
    if (named['checkquorum'] !== undefined) core.checkQuorum = named['checkquorum'] === 'true';
    const spares = named['spares']?.split(',') ?? [];
    this.net = new TestNetwork(ids, { seed: Number(named['seed'] ?? 1), core, spares });
    this.net.onDeliver = (m, delivered) => {
      this.print(`${delivered ? '' : 'DROPPED '}${describeMessage(m)}`);
      if (delivered) this.noteRoles('  ');
    };
    this.roles = new Map();
    this.noteRoles(undefined, true);
  }

  private stabilize(): void {
    const net = this.network();
    for (let i = 0; i < 1000; i++) {
      const did = net.processReadies();
      this.noteRoles();
      if (net.deliver() === 0 && !did) return;
    }
    throw new Error('did not stabilize');
  }

  /** Prints role, term and leader changes since the last look. */
  private noteRoles(indent = '', quiet = false): void {
    for (const n of this.network().nodes.values()) {
      const c = n.core;
      const now = c === null ? 'down' : `${c.role} term=${c.term}${c.lead !== null && c.role === 'follower' ? ` lead=${c.lead}` : ''}`;
      if (this.roles.get(n.id) !== now && !quiet) this.print(`${indent}${n.id}: ${now}`);
      this.roles.set(n.id, now);
    }
  }

  private proposal(id: string | undefined, p: Proposal): void {
    this.print(p.ok ? `${id}: ok index=${p.index}${p.unchanged === true ? ' (unchanged)' : ''}` : `${id}: refused ${p.code}: ${p.reason}`);
  }

  private change(id: string | undefined, c: ConfigChange): void {
    this.proposal(id, this.core(id).proposeConfigChange(c));
  }

  private status(id: string): string {
    const c = this.network().node(id).core;
    if (c === null) return `${id}: down`;
    const st = c.status();
    const config = c
      .configuration()
      .configuration.servers.map((s) => `${s.id}${s.suffrage === 'voter' ? '' : '(nonvoter)'}`)
      .join(' ');
    return `${id}: ${st.role} term=${st.term} commit=${st.commit} applied=${st.applied} log=${st.firstIndex}..${st.lastIndex} config=[${config}]`;
  }

  private logOf(id: string): string {
    const s = this.network().node(id).storage;
    return describeEntries(s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity)).join(' ');
  }

  private print(line: string): void {
    this.out.push(line);
  }

  private network(): TestNetwork {
    if (this.net === null) throw new Error('no cluster yet: start with `cluster n1 n2 n3`');
    return this.net;
  }

  private core(id: string | undefined) {
    return this.network().core(this.id(id));
  }

  private id(id: string | undefined): string {
    if (id === undefined) throw new Error('a server id is missing');
    return id;
  }
}
