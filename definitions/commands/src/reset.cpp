static void cmd_reset(const long* args) {
  (void)args;
  fw_reply_reset();
  fw_out->flush();  // the reply leaves before the restart (on CH32V, up to its last stop bit)
  fw_restart();
}
