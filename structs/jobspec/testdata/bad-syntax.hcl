job "broken" {
  group "web" {
    count =
  }
}
