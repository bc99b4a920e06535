"""What the esp8266/Arduino core's host emulation (`tests/host`, tag 3.1.2, 210897e; upstream master
alike) does differently from the chip, and the fix applied to a copy of it before a sketch runs there.

Each fix replaces one exact passage of one file; a passage that is not there exactly once stops
the preparation, naming the file (another core version needs these fixes reviewed, never applied
blindly). The fixed copy runs with `-b` (the harness passes it): the mock then leaves the terminal
alone (without `-b` it sets ONLCR, so every 0x0A written became 0x0D 0x0A) and UART0 is fed only by
`mock_uart0_receive()` below.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.errors import FirmwareError

# The environment variable that moves the emulated WiFiServer to another port (0: any free one,
# kept for the next start after ESP.restart()); without it, the port the firmware asks for.
PORT_VARIABLE = "ESP8266_HOST_TCP_PORT"
# What the fixed WiFiServer prints on stderr once it listens: "<LISTENING>127.0.0.1:<port>".
LISTENING = "esp8266-host: WiFiServer listening on "


@dataclass(frozen=True)
class Fix:
    """One passage of one file of the core's tree, replaced."""

    path: str
    old: str
    new: str
    why: str


FIXES: tuple[Fix, ...] = (
    Fix("cores/esp8266/spi_vendors.h",
        why="the flash vendor ids live in bootloaders/eboot/, which the trimmed archive leaves out; "
            "only Esp.cpp uses them, and the host build does not compile it",
        old="""#include <../../bootloaders/eboot/spi_vendors.h>
""",
        new="""/* host emulation: no flash vendor ids (bootloaders/eboot/ is not needed) */
"""),
    Fix("cores/esp8266/flash_utils.h",
        why="(the same) of eboot's flash.h the host build needs only the flash geometry, which is "
            "the SDK's spi_flash_geometry.h, and the application's offset in flash",
        old="""#include <../../bootloaders/eboot/flash.h>
""",
        new="""#include <spi_flash_geometry.h>
#define APP_START_OFFSET 0x1000
"""),
    Fix("tests/host/common/MockWiFiServer.cpp",
        why="the mock WiFiServer lacks setNoDelay()/getNoDelay() (a link error) and accept() ignores "
            "them; the real WiFiServer gives every accepted client the server's no-delay setting",
        old="""WiFiClient WiFiServer::accept()
{
    if (hasClient())
        return WiFiClient(new ClientContext(serverAccept(pcb2int(_listen_pcb))));
    return WiFiClient();
}
""",
        new="""WiFiClient WiFiServer::accept()
{
    if (hasClient())
    {
        WiFiClient result(new ClientContext(serverAccept(pcb2int(_listen_pcb))));
        if (_noDelay != _ndDefault)
            result.setNoDelay(getNoDelay());
        return result;
    }
    return WiFiClient();
}

void WiFiServer::setNoDelay(bool nodelay)
{
    _noDelay = nodelay ? _ndTrue : _ndFalse;
}

bool WiFiServer::getNoDelay()
{
    return _noDelay == _ndDefault ? WiFiClient::getDefaultNoDelay() : _noDelay == _ndTrue;
}
"""),
    Fix("tests/host/common/include/ClientContext.h",
        why="setNoDelay()/getNoDelay() were no-ops: every reply written in several print()s waited "
            "~40 ms for the peer's delayed ACK (Nagle); lwIP on the chip sets TCP_NODELAY",
        old="""    void setNoDelay(bool nodelay)
    {
        mockverbose("TODO setNoDelay(%d)\\n", (int)nodelay);
    }

    bool getNoDelay() const
    {
        mockverbose("TODO getNoDelay()\\n");
        return false;
    }
""",
        new="""    void setNoDelay(bool nodelay)
    {
        mockSetNoDelay(_sock, nodelay);
    }

    bool getNoDelay() const
    {
        return mockGetNoDelay(_sock);
    }
"""),
    Fix("tests/host/common/include/ClientContext.h",
        why="writing to a connection already closed (by the peer, or after an error) looped for ever "
            "in poll() on fd -1; lwIP's write to a closed connection returns 0",
        old="""    size_t write(const char* data, size_t size)
    {
""",
        new="""    size_t write(const char* data, size_t size)
    {
        if (_sock < 0)
            return 0;
"""),
    Fix("tests/host/common/ClientContextSocket.cpp",
        why="a peer's close (read() == 0) was ignored, so connected() stayed true and a second client "
            "was refused for ever; now it closes the connection, as lwIP does on the peer's FIN "
            "(ClientContext calls its abort() on a negative return)",
        old="""    if (ret == 0)
    {
        // connection closed
        // nothing is read
        return 0;
    }
""",
        new="""    if (ret == 0)
    {
        // connection closed by the peer
        return -1;
    }
"""),
    Fix("tests/host/common/ClientContextSocket.cpp",
        why="the socket side of setNoDelay()/getNoDelay() (TCP_NODELAY)",
        old="""int mockConnect(uint32_t ipv4, int& sock, int port)
""",
        new="""void mockSetNoDelay(int sock, bool nodelay)
{
    int value = nodelay;
    if (sock >= 0)
        setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &value, sizeof(value));
}

bool mockGetNoDelay(int sock)
{
    int       value = 0;
    socklen_t size  = sizeof(value);
    return sock >= 0 && getsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &value, &size) == 0 && value;
}

int mockConnect(uint32_t ipv4, int& sock, int port)
"""),
    Fix("tests/host/common/mock.h",
        why="declarations of the fixes' functions",
        old="""    void uart_new_data(const int uart_nr, uint8_t data);
""",
        new="""    void uart_new_data(const int uart_nr, uint8_t data);
    void mock_uart0_receive(void);
    extern char* const* mock_argv;
"""),
    Fix("tests/host/common/mock.h",
        why="declarations of the fixes' functions",
        old="""int     mockConnect(uint32_t addr, int& sock, int port);
""",
        new="""int     mockConnect(uint32_t addr, int& sock, int port);
void    mockSetNoDelay(int sock, bool nodelay);
bool    mockGetNoDelay(int sock);
"""),
    Fix("tests/host/common/ArduinoMain.cpp",
        why="UART0 dropped every 0x00 read from stdin (`if (data)`), which breaks binary frames, and "
            "took one byte per loop (about 1,000 bytes/s) whatever the baud rate",
        old="""        uint8_t data = mock_read_uart();

        if (data)
            uart_new_data(UART0, data);
""",
        new="""        mock_uart0_receive();
"""),
    Fix("tests/host/common/ArduinoMain.cpp",
        why="ESP.restart() restarts the program (below): it needs the command line",
        old="""int main(int argc, char* const argv[])
{
""",
        new="""char* const* mock_argv = nullptr;

int main(int argc, char* const argv[])
{
    mock_argv = argv;
"""),
    Fix("tests/host/common/ArduinoMain.cpp",
        why="mock_read_uart() is no longer used (-Werror=unused-function)",
        old="""static uint8_t mock_read_uart(void)
{""",
        new="""[[maybe_unused]] static uint8_t mock_read_uart(void)
{"""),
    Fix("tests/host/common/MockUART.cpp",
        why="stdin reaches UART0's receive buffer at the baud rate Serial.begin() set (10 bits a "
            "byte, host time), NUL bytes included; at most 128 bytes (the chip's RX FIFO) per loop, "
            "so a host that falls behind never loses bytes the chip would have kept; a quiet line "
            "earns no credit",
        old="""    // insert a new byte into the RX FIFO nuffer
""",
        new="""    void mock_uart0_receive(void)
    {
        static uint64_t since_us = 0;
        uart_t*         uart     = UART[UART0];
        timespec        now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t now_us  = (uint64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
        int      waiting = 0;
        if (uart == NULL || !uart->rx_enabled || uart->baud_rate <= 0
            || ioctl(STDIN_FILENO, FIONREAD, &waiting) < 0 || waiting <= 0)
        {
            since_us = now_us;
            return;
        }
        uint64_t due = (now_us - since_us) * (uint64_t)uart->baud_rate / 10000000;
        if (due == 0)
            return;
        if (due > 128)
        {
            due      = 128;
            since_us = now_us;
        }
        else
            since_us += due * 10000000 / (uint64_t)uart->baud_rate;
        uint8_t bytes[128];
        ssize_t got = read(STDIN_FILENO, bytes, (size_t)waiting < due ? (size_t)waiting : due);
        for (ssize_t i = 0; i < got; i++)
            uart_handle_data(uart, bytes[i]);
    }

    // insert a new byte into the RX FIFO nuffer
"""),
    Fix("tests/host/common/MockUART.cpp",
        why="headers of mock_uart0_receive()",
        old="""#include <unistd.h>    // write
""",
        new="""#include <unistd.h>    // write
#include <sys/ioctl.h> // FIONREAD
"""),
    Fix("tests/host/common/MockEsp.cpp",
        why="ESP.restart() was exit(0): the board never came back. It now restarts the program as "
            "the chip reboots: its connections close, UART0 (stdin/stdout) stays",
        old="""    mockverbose("Esp.restart(): exiting\\n");
    exit(EXIT_SUCCESS);
""",
        new="""    mockverbose("Esp.restart(): restarting\\n");
    fflush(stdout);
    for (int fd = 3; fd < 1024; fd++)
        ::close(fd);
    execv("/proc/self/exe", mock_argv);
    perror("Esp.restart(): execv");
    exit(EXIT_FAILURE);
"""),
    Fix("tests/host/common/MockEsp.cpp",
        why="headers of the restart",
        old="""#include <sys/time.h>
""",
        new="""#include <sys/time.h>
#include <unistd.h>
"""),
    Fix("tests/host/common/MockWiFiServerSocket.cpp",
        why="the server listened on every interface (0.0.0.0): anyone on the network could drive the "
            "emulated board; it now listens on 127.0.0.1 only, on the firmware's port or the one "
            f"{PORT_VARIABLE} names (0: any free port, kept across ESP.restart()), and says which",
        old="""    mockport = _port;
    if (mockport < 1024 && mock_port_shifter)
""",
        new="""    mockport = _port;
    if (getenv(\"""" + PORT_VARIABLE + """\"))
        mockport = atoi(getenv(\"""" + PORT_VARIABLE + """\"));
    else if (mockport < 1024 && mock_port_shifter)
"""),
    Fix("tests/host/common/MockWiFiServerSocket.cpp",
        why="(the same) a restarted program binds the port again at once",
        old="""    int optval = 1;
    if (setsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &optval, sizeof(optval)) == -1)
""",
        new="""    int optval = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &optval, sizeof(optval));
    if (setsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &optval, sizeof(optval)) == -1)
"""),
    Fix("tests/host/common/MockWiFiServerSocket.cpp",
        why="(the same) loopback only",
        old="""    server.sin_addr.s_addr = htonl(global_source_address);
""",
        new="""    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
"""),
    Fix("tests/host/common/MockWiFiServerSocket.cpp",
        why="(the same) the port actually bound, told on stderr and kept for a restart",
        old="""    // store int into pointer
    _listen_pcb = int2pcb(sock);
""",
        new="""    socklen_t bound = sizeof(server);
    getsockname(sock, (struct sockaddr*)&server, &bound);
    if (getenv(\"""" + PORT_VARIABLE + """\"))
    {
        char number[8];
        snprintf(number, sizeof(number), "%d", ntohs(server.sin_port));
        setenv(\"""" + PORT_VARIABLE + """\", number, 1);
    }
    fprintf(stderr, \"""" + LISTENING + """127.0.0.1:%d\\n\", ntohs(server.sin_port));

    // store int into pointer
    _listen_pcb = int2pcb(sock);
"""),
)


def apply_fixes(tree: Path) -> None:
    """Apply every fix to the core copy at `tree` (its root holds `tests/host/`)."""
    for fix in FIXES:
        path = tree / fix.path
        text = path.read_text(encoding="utf-8")
        if text.count(fix.old) != 1:
            raise FirmwareError(f"{path}: the passage a host-emulation fix replaces is not there exactly once "
                                f"({fix.why})", "these fixes are written for esp8266/Arduino 3.1.2's tests/host")
        path.write_text(text.replace(fix.old, fix.new), encoding="utf-8")
