{
  "targets": [
    {
      "target_name": "knet_dns",
      "sources": ["native/knet_dns.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11", "-fvisibility=hidden"]
    }
  ]
}
