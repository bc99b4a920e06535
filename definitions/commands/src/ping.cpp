static void cmd_ping(const long* args) {
  (void)args;
  fw_reply_begin();
  fw_reply_end();
}
