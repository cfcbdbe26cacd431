/*
 * efi.h: the few UEFI types mneme's loader uses (UEFI 2.x specification,
 * written from the specification's tables; no vendor headers).
 *
 * The platform is compiled for the x86_64-pc-cygwin target, whose calling
 * convention is the Microsoft x64 one UEFI uses, so the firmware's function
 * pointers are plain C function pointers here.
 */
#ifndef MNEME_X86_EFI_H
#define MNEME_X86_EFI_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t efi_status;
typedef void *efi_handle;
typedef uint16_t char16;

#define EFI_SUCCESS 0
#define EFI_ERR(n) (0x8000000000000000ull | (n))
#define EFI_BUFFER_TOO_SMALL EFI_ERR(5)

typedef struct {
  uint32_t a;
  uint16_t b, c;
  uint8_t d[8];
} efi_guid;

typedef struct {
  uint64_t signature;
  uint32_t revision, header_size, crc32, reserved;
} efi_table_header;

/* Memory types (EFI_MEMORY_TYPE). */
enum {
  EFI_RESERVED, EFI_LOADER_CODE, EFI_LOADER_DATA, EFI_BS_CODE, EFI_BS_DATA,
  EFI_RT_CODE, EFI_RT_DATA, EFI_CONVENTIONAL, EFI_UNUSABLE, EFI_ACPI_RECLAIM,
  EFI_ACPI_NVS, EFI_MMIO, EFI_MMIO_PORT, EFI_PAL_CODE, EFI_PERSISTENT,
};

typedef struct {
  uint32_t type;
  uint32_t pad;
  uint64_t phys;
  uint64_t virt;
  uint64_t pages;
  uint64_t attr;
} efi_memory_descriptor;

enum { EFI_ALLOCATE_ANY, EFI_ALLOCATE_MAX_ADDRESS, EFI_ALLOCATE_ADDRESS };

typedef struct efi_text_out {
  efi_status (*reset)(struct efi_text_out *, uint8_t);
  efi_status (*output_string)(struct efi_text_out *, const char16 *);
} efi_text_out;

typedef struct {
  efi_table_header hdr;
  void *raise_tpl, *restore_tpl;
  efi_status (*allocate_pages)(int type, int mem_type, uint64_t pages,
                               uint64_t *phys);
  efi_status (*free_pages)(uint64_t phys, uint64_t pages);
  efi_status (*get_memory_map)(uint64_t *size, efi_memory_descriptor *map,
                               uint64_t *key, uint64_t *desc_size,
                               uint32_t *desc_version);
  efi_status (*allocate_pool)(int mem_type, uint64_t size, void **out);
  efi_status (*free_pool)(void *p);
  void *create_event, *set_timer, *wait_for_event, *signal_event,
      *close_event, *check_event;
  void *install_protocol, *reinstall_protocol, *uninstall_protocol;
  efi_status (*handle_protocol)(efi_handle h, const efi_guid *g, void **out);
  void *reserved, *register_protocol_notify, *locate_handle,
      *locate_device_path, *install_configuration_table;
  void *load_image, *start_image, *exit, *unload_image;
  efi_status (*exit_boot_services)(efi_handle image, uint64_t map_key);
  void *get_next_monotonic_count;
  efi_status (*stall)(uint64_t us);
  efi_status (*set_watchdog_timer)(uint64_t timeout, uint64_t code,
                                   uint64_t size, const char16 *data);
  void *connect_controller, *disconnect_controller;
  void *open_protocol, *close_protocol, *open_protocol_information;
  void *protocols_per_handle, *locate_handle_buffer;
  efi_status (*locate_protocol)(const efi_guid *g, void *reg, void **out);
} efi_boot_services;

typedef struct {
  efi_guid guid;
  void *table;
} efi_configuration_table;

typedef struct {
  efi_table_header hdr;
  char16 *firmware_vendor;
  uint32_t firmware_revision;
  efi_handle console_in_handle;
  void *con_in;
  efi_handle console_out_handle;
  efi_text_out *con_out;
  efi_handle stderr_handle;
  efi_text_out *std_err;
  void *runtime_services;
  efi_boot_services *boot_services;
  uint64_t n_tables;
  efi_configuration_table *tables;
} efi_system_table;

/* EFI_TIME (GetTime, in efi_runtime_services below). */
typedef struct {
  uint16_t year;
  uint8_t month, day, hour, minute, second, pad1;
  uint32_t nanosecond;
  int16_t timezone;          /* minutes; EFI_UNSPECIFIED_TIMEZONE: local */
  uint8_t daylight, pad2;
} efi_time;
#define EFI_UNSPECIFIED_TIMEZONE 0x07ff


/* EFI_RNG_PROTOCOL (UEFI 2.x, 37.5). */
#define EFI_RNG_PROTOCOL_GUID \
  {0x3152bca5, 0xeade, 0x433d, {0x86, 0x2e, 0xc0, 0x1c, 0xdc, 0x29, 0x1f, 0x44}}
typedef struct efi_rng {
  efi_status (*get_info)(struct efi_rng *self, uint64_t *list_size, efi_guid *list);
  efi_status (*get_rng)(struct efi_rng *self, const efi_guid *algorithm,
                        uint64_t len, uint8_t *out);
} efi_rng;

typedef struct {
  uint32_t revision;
  efi_handle parent;
  efi_system_table *system_table;
  efi_handle device;
  void *file_path;
  void *reserved;
  uint32_t load_options_size;
  void *load_options;
  void *image_base;
  uint64_t image_size;
  int image_code_type, image_data_type;
  void *unload;
} efi_loaded_image;

typedef struct efi_file {
  uint64_t revision;
  efi_status (*open)(struct efi_file *self, struct efi_file **out,
                     const char16 *name, uint64_t mode, uint64_t attr);
  efi_status (*close)(struct efi_file *self);
  void *del;
  efi_status (*read)(struct efi_file *self, uint64_t *size, void *buf);
  void *write, *get_position, *set_position;
  efi_status (*get_info)(struct efi_file *self, const efi_guid *type,
                         uint64_t *size, void *buf);
} efi_file;

#define EFI_FILE_MODE_READ 1ull
#define EFI_FILE_DIRECTORY 0x10ull

typedef struct {
  uint64_t size;
  uint64_t file_size;
  uint64_t physical_size;
  uint8_t times[48];
  uint64_t attr;
  char16 name[];
} efi_file_info;

typedef struct efi_simple_fs {
  uint64_t revision;
  efi_status (*open_volume)(struct efi_simple_fs *self, efi_file **root);
} efi_simple_fs;

enum { EFI_PIXEL_RGBX, EFI_PIXEL_BGRX, EFI_PIXEL_BITMASK, EFI_PIXEL_BLT_ONLY };

typedef struct {
  uint32_t version;
  uint32_t width, height;
  uint32_t pixel_format;
  uint32_t mask_r, mask_g, mask_b, mask_x;
  uint32_t pixels_per_line;
} efi_gop_mode_info;

typedef struct {
  uint32_t max_mode, mode;
  efi_gop_mode_info *info;
  uint64_t info_size;
  uint64_t fb_base;
  uint64_t fb_size;
} efi_gop_mode;

typedef struct efi_gop {
  efi_status (*query_mode)(struct efi_gop *self, uint32_t mode,
                           uint64_t *size, efi_gop_mode_info **info);
  efi_status (*set_mode)(struct efi_gop *self, uint32_t mode);
  void *blt;
  efi_gop_mode *mode;
} efi_gop;

/* EFI_RUNTIME_SERVICES: usable after ExitBootServices. mneme keeps the
 * identity mapping and never calls SetVirtualAddressMap, so the
 * firmware's runtime code runs at its physical addresses. */
typedef struct {
  efi_table_header hdr;
  efi_status (*get_time)(efi_time *time, void *capabilities);
  void *set_time, *get_wakeup_time, *set_wakeup_time;
  void *set_virtual_address_map, *convert_pointer;
  efi_status (*get_variable)(const char16 *name, const efi_guid *vendor,
                             uint32_t *attr, uint64_t *size, void *data);
  void *get_next_variable_name;
  efi_status (*set_variable)(const char16 *name, const efi_guid *vendor,
                             uint32_t attr, uint64_t size, const void *data);
  void *get_next_high_monotonic_count, *reset_system;
  void *update_capsule, *query_capsule_capabilities;
  efi_status (*query_variable_info)(uint32_t attr, uint64_t *max_storage,
                                    uint64_t *remaining, uint64_t *max_size);
} efi_runtime_services;

#define EFI_VARIABLE_NON_VOLATILE 1u
#define EFI_VARIABLE_BOOTSERVICE_ACCESS 2u
#define EFI_VARIABLE_RUNTIME_ACCESS 4u
#define EFI_NOT_FOUND EFI_ERR(14)
#define EFI_OUT_OF_RESOURCES EFI_ERR(9)
#define EFI_INVALID_PARAMETER EFI_ERR(2)
#define EFI_WRITE_PROTECTED EFI_ERR(8)
#define EFI_UNSUPPORTED EFI_ERR(3)

#define EFI_ACPI20_GUID \
  {0x8868e871, 0xe4f1, 0x11d3, {0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81}}
#define EFI_ACPI10_GUID \
  {0xeb9d2d30, 0x2d88, 0x11d3, {0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d}}
#define EFI_GOP_GUID \
  {0x9042a9de, 0x23dc, 0x4a38, {0x96, 0xfb, 0x7a, 0xde, 0xd0, 0x80, 0x51, 0x6a}}
#define EFI_LOADED_IMAGE_GUID \
  {0x5b1b31a1, 0x9562, 0x11d2, {0x8e, 0x3f, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b}}
#define EFI_SIMPLE_FS_GUID \
  {0x964e5b22, 0x6459, 0x11d2, {0x8e, 0x39, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b}}
#define EFI_FILE_INFO_GUID \
  {0x09576e92, 0x6d3f, 0x11d2, {0x8e, 0x39, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b}}

#endif
