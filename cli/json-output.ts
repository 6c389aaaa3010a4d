/** `-json` output: the API's JSON, indented with four spaces as Nomad's CLI prints it. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 4);
}
