/*
 * boot_floor.c: the firmware floor for bench/boot.sh: the smallest UEFI
 * application that shows it is running, by writing a marker to COM1
 * (which OVMF has already set up; on aarch64 the PL011 of QEMU's virt
 * machine, which AAVMF has set up), then idling. The time QEMU takes to
 * print it is what any EFI application pays before its first instruction.
 *
 * Interface: efi_main (the PE entry point).
 */
#include <stdint.h>

uint64_t efi_main(void *image, void *system_table);

uint64_t efi_main(void *image, void *system_table) {
  static const char marker[] = "<mneme-floor>\r\n";
#if defined(__aarch64__)
  volatile uint32_t *uart = (volatile uint32_t *)0x09000000;
  for (const char *p = marker; *p; p++) {
    while (uart[0x18 / 4] & 0x20) {}
    uart[0] = (uint8_t)*p;
  }
  for (;;) __asm__ volatile("wfi");
#else
  for (const char *p = marker; *p; p++) {
    while (!(({ uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"((uint16_t)0x3fd)); v; }) & 0x20)) {}
    __asm__ volatile("outb %0, %1" : : "a"(*p), "Nd"((uint16_t)0x3f8));
  }
  for (;;) __asm__ volatile("hlt");
#endif
}
