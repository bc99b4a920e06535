static void cmd_ping(const long* args) {
  (void)args;
  fw_reply_ping();
}
