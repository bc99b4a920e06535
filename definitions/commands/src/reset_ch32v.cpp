static void fw_restart() {
  NVIC_SystemReset();
}
