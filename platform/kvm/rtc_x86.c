/* The CMOS real-time clock of the PC: the wall-clock time (UTC, as QEMU
 * and libvirt set it by default) for kern/plat_time.h. */
#include <arch/io.h>
#include <kern/platform.h>

static uint8_t cmos_read(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned from_bcd(uint8_t v, bool bcd)
{
    return bcd ? (v & 0x0f) + (v >> 4) * 10 : v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

uint64_t platform_wallclock_ns(const char **source)
{
    *source = "the RTC";
    uint8_t s, mi, h, d, mo, y;
    /* Read twice until stable, so an update in the middle is not seen. */
    do {
        while (cmos_read(0x0a) & 0x80)      /* update in progress */
            ;
        s = cmos_read(0x00);
        mi = cmos_read(0x02);
        h = cmos_read(0x04);
        d = cmos_read(0x07);
        mo = cmos_read(0x08);
        y = cmos_read(0x09);
    } while (s != cmos_read(0x00) || mi != cmos_read(0x02));
    uint8_t b = cmos_read(0x0b);
    bool bcd = !(b & 0x04);
    bool pm = h & 0x80;
    unsigned hour = from_bcd(h & 0x7f, bcd);
    if (!(b & 0x02) && pm)                  /* 12-hour clock */
        hour = (hour % 12) + 12;
    int64_t days = days_from_civil(2000 + from_bcd(y, bcd), from_bcd(mo, bcd), from_bcd(d, bcd));
    uint64_t secs = (uint64_t)days * 86400 + hour * 3600 + from_bcd(mi, bcd) * 60 +
                    from_bcd(s, bcd);
    return secs * 1000000000ULL;
}
