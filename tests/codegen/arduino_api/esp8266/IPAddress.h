// Host stub of esp8266/Arduino cores/esp8266/IPAddress.h (read at commit b5fefcfc).
// IPAddress is Printable and also converts to uint32_t and bool, as in the real class,
// so Print::print(IPAddress) must resolve through print(const Printable&) here too.
// The lwIP ip_addr_t members and the u32_t overloads are left out.
#ifndef IPAddress_h
#define IPAddress_h

#include <stdint.h>
#include <WString.h>
#include <Printable.h>

class IPAddress: public Printable {
    public:
        IPAddress();
        IPAddress(const IPAddress& from);
        IPAddress(uint8_t first_octet, uint8_t second_octet, uint8_t third_octet, uint8_t fourth_octet);
        IPAddress(uint32_t address);
        IPAddress(int address);
        IPAddress(const uint8_t *address);

        bool fromString(const char *address);

        operator uint32_t() const;
        operator uint32_t();

        bool isSet () const;
        operator bool () const;
        operator bool ();

        bool operator==(const IPAddress& addr) const;
        bool operator!=(const IPAddress& addr) const;

        IPAddress& operator=(const IPAddress&) = default;

        virtual size_t printTo(Print& p) const;
        String toString() const;
};

extern const IPAddress INADDR_ANY;
extern const IPAddress INADDR_NONE;

#endif
