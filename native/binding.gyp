{
  "targets": [ {
    "target_name": "offhook_line",
    "sources": ["src/addon.cc", "src/line_checks.cc", "src/wav.cc", "src/sim_line.cc", "src/sim_exchange.cc", "src/sim_convert.cc", "src/vpb_library.cc", "src/vpb_line.cc", "src/vpb_events.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
    "cflags_cc": ["-std=c++17", "-O2", "-Wall"],
    "libraries": ["-ldl", "-lpthread"],
    "defines": ["NAPI_VERSION=8"]
  } ]
}
