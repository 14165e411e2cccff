{
  "targets": [
    {
      "target_name": "tcp_engine",
      "sources": ["native/tcp_engine.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
