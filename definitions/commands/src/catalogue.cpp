static void cmd_catalogue(const long* args) {
  fw_catalogue_chunk((uint16_t)args[0]);
}
