/*
 * boot_floor.c: the firmware floor for bench/boot.sh: the smallest UEFI
 * application that shows it is running, by writing a marker to COM1
 * (which OVMF has already set up), then idling. The time QEMU takes to
 * print it is what any EFI application pays before its first instruction.
 *
 * Interface: efi_main (the PE entry point).
 */
#include <stdint.h>

uint64_t efi_main(void *image, void *system_table);

uint64_t efi_main(void *image, void *system_table) {
  static const char marker[] = "<mneme-floor>\r\n";
  for (const char *p = marker; *p; p++) {
    while (!(({ uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"((uint16_t)0x3fd)); v; }) & 0x20)) {}
    __asm__ volatile("outb %0, %1" : : "a"(*p), "Nd"((uint16_t)0x3f8));
  }
  for (;;) __asm__ volatile("hlt");
}
