region = "should-not-load"
