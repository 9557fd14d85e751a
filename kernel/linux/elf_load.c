/*
 * The ELF64 loader for static programs: static-PIE (ET_DYN without
 * PT_INTERP, placed at a random base) and static ET_EXEC (at its link
 * address). Every header field used is checked first, so a malformed file
 * gets a message saying what is wrong and nothing is mapped.
 *
 * Segments are mapped from the ROFS image in place (kern/vm.h): text and
 * read-only data are the image's own pages; writable data is copied page
 * by page on first write; .bss beyond the file is anonymous memory.
 *
 * The app's symbol table (.symtab, when not stripped) is kept for fault
 * reports: app_symbolize().
 */
#include <arch/linux_abi.h>           /* the ELF machine apps are built for */
#include <arch/mm.h>
#include <kern/app.h>
#include <kern/errno.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/vfs.h>
#include <kern/vm.h>
#include "linux.h"

#define EI_NIDENT 16
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define ET_DYN 3

#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_PHDR 6
#define PT_TLS 7
#define PT_GNU_STACK 0x6474e551

#define PF_X 1
#define PF_W 2
#define PF_R 4

#define SHT_SYMTAB 2
#define STT_FUNC 2
#define STT_OBJECT 1

struct elf64_ehdr {
    uint8_t ident[EI_NIDENT];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct elf64_shdr {
    uint32_t name, type;
    uint64_t flags, addr, offset, size;
    uint32_t link, info;
    uint64_t addralign, entsize;
};

struct elf64_sym {
    uint32_t name;
    uint8_t info, other;
    uint16_t shndx;
    uint64_t value, size;
};

#define MAX_PHNUM 64

/* The app's symbols, in place in the image. */
static const struct elf64_sym *symtab;
static size_t nsyms;
static const char *strtab;
static size_t strtab_size;
static uintptr_t sym_bias;

static int fail(char *why, size_t size, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t size, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
    return err;
}

static unsigned prot_of(uint32_t pflags)
{
    return ((pflags & PF_R) ? PROT_READ : 0) | ((pflags & PF_W) ? PROT_WRITE : 0) |
           ((pflags & PF_X) ? PROT_EXEC : 0);
}

/* Check everything about the headers before mapping anything. */
static int check_headers(const uint8_t *data, uint64_t size, const struct elf64_ehdr *eh,
                         const struct elf64_phdr *ph, char *why, size_t ws)
{
    static const uint8_t magic[4] = { 0x7f, 'E', 'L', 'F' };
    if (size < 4 || memcmp(data, magic, 4))
        return fail(why, ws, -ENOEXEC, "not an ELF file (no \\x7fELF magic)");
    if (size < sizeof(*eh))
        return fail(why, ws, -ENOEXEC, "truncated ELF header (%llu bytes)",
                    (unsigned long long)size);
    if (eh->ident[4] != ELFCLASS64)
        return fail(why, ws, -ENOEXEC, "not a 64-bit ELF file (EI_CLASS %u)", eh->ident[4]);
    if (eh->ident[5] != ELFDATA2LSB)
        return fail(why, ws, -ENOEXEC, "not little-endian (EI_DATA %u)", eh->ident[5]);
    if (eh->ident[6] != EV_CURRENT || eh->version != EV_CURRENT)
        return fail(why, ws, -ENOEXEC, "unknown ELF version %u", eh->ident[6]);
    if (eh->machine != LINUX_ELF_MACHINE)
        return fail(why, ws, -ENOEXEC, "built for machine %u, not " LINUX_ELF_MACHINE_NAME " (%u)",
                    eh->machine, LINUX_ELF_MACHINE);
    if (eh->type != ET_EXEC && eh->type != ET_DYN)
        return fail(why, ws, -ENOEXEC, "not an executable (e_type %u: %s)", eh->type,
                    eh->type == 1 ? "a relocatable object" : eh->type == 4 ? "a core file"
                                                                         : "unknown");
    if (eh->phentsize != sizeof(struct elf64_phdr))
        return fail(why, ws, -ENOEXEC, "e_phentsize is %u, expected %zu", eh->phentsize,
                    sizeof(struct elf64_phdr));
    if (eh->phnum == 0 || eh->phnum > MAX_PHNUM)
        return fail(why, ws, -ENOEXEC, "e_phnum is %u (1..%d allowed)", eh->phnum, MAX_PHNUM);
    if (eh->phoff >= size || (uint64_t)eh->phnum * sizeof(*ph) > size - eh->phoff)
        return fail(why, ws, -ENOEXEC, "program headers (offset %llu) extend past the end "
                    "of the file (%llu bytes)", (unsigned long long)eh->phoff,
                    (unsigned long long)size);

    unsigned loads = 0;
    uint64_t prev_end = 0;
    bool entry_ok = false;
    for (unsigned i = 0; i < eh->phnum; i++) {
        const struct elf64_phdr *p = &ph[i];
        if (p->type == PT_INTERP) {
            char interp[64] = "";
            if (p->offset < size && p->filesz <= size - p->offset)
                memcpy(interp, data + p->offset, MIN(p->filesz, sizeof(interp) - 1));
            interp[sizeof(interp) - 1] = 0;
            return fail(why, ws, -ENOEXEC, "dynamically linked (PT_INTERP %s): only static "
                        "programs run yet; link with -static-pie or -static (tern cc)",
                        interp);
        }
        if (p->type == PT_TLS) {
            if (p->filesz > p->memsz || (p->align & (p->align - 1)))
                return fail(why, ws, -ENOEXEC, "PT_TLS (header %u) is malformed: filesz %llu, "
                            "memsz %llu, align %llu", i, (unsigned long long)p->filesz,
                            (unsigned long long)p->memsz, (unsigned long long)p->align);
            continue;
        }
        if (p->type != PT_LOAD)
            continue;
        loads++;
        if (p->filesz > p->memsz)
            return fail(why, ws, -ENOEXEC, "PT_LOAD (header %u): p_filesz %llu > p_memsz %llu",
                        i, (unsigned long long)p->filesz, (unsigned long long)p->memsz);
        if (p->offset > size || p->filesz > size - p->offset)
            return fail(why, ws, -ENOEXEC, "PT_LOAD (header %u) extends past the end of the "
                        "file (offset %llu + %llu > %llu bytes)", i,
                        (unsigned long long)p->offset, (unsigned long long)p->filesz,
                        (unsigned long long)size);
        if ((p->offset & (PAGE_SIZE - 1)) != (p->vaddr & (PAGE_SIZE - 1)))
            return fail(why, ws, -ENOEXEC, "PT_LOAD (header %u): p_offset %#llx and p_vaddr "
                        "%#llx differ modulo the page size", i,
                        (unsigned long long)p->offset, (unsigned long long)p->vaddr);
        if (p->memsz > VM_USER_END || p->vaddr > VM_USER_END - p->memsz)
            return fail(why, ws, -ENOEXEC, "PT_LOAD (header %u) at %#llx + %#llx lies outside "
                        "the app's address space", i, (unsigned long long)p->vaddr,
                        (unsigned long long)p->memsz);
        if (eh->type == ET_EXEC && p->vaddr < VM_USER_START)
            return fail(why, ws, -ENOEXEC, "PT_LOAD (header %u) at %#llx: below %#lx, the "
                        "lowest address apps may use", i, (unsigned long long)p->vaddr,
                        VM_USER_START);
        if (p->vaddr < prev_end)
            return fail(why, ws, -ENOEXEC, "PT_LOAD (header %u) at %#llx overlaps or precedes "
                        "the previous one (ending at %#llx)", i,
                        (unsigned long long)p->vaddr, (unsigned long long)prev_end);
        prev_end = p->vaddr + p->memsz;
        if ((p->flags & PF_X) && eh->entry >= p->vaddr && eh->entry < p->vaddr + p->memsz)
            entry_ok = true;
    }
    if (!loads)
        return fail(why, ws, -ENOEXEC, "no PT_LOAD segment");
    if (!entry_ok)
        return fail(why, ws, -ENOEXEC, "the entry point %#llx is not in an executable "
                    "PT_LOAD segment", (unsigned long long)eh->entry);
    return 0;
}

/* Keep .symtab/.strtab for reports, when the section headers are sane. */
static void keep_symbols(const uint8_t *data, uint64_t size, const struct elf64_ehdr *eh,
                         uintptr_t bias)
{
    symtab = NULL;
    if (!eh->shoff || eh->shentsize != sizeof(struct elf64_shdr) || eh->shoff >= size ||
        (uint64_t)eh->shnum * sizeof(struct elf64_shdr) > size - eh->shoff ||
        (eh->shoff & 7))
        return;
    const struct elf64_shdr *sh = (const struct elf64_shdr *)(data + eh->shoff);
    for (unsigned i = 0; i < eh->shnum; i++) {
        if (sh[i].type != SHT_SYMTAB || sh[i].link >= eh->shnum)
            continue;
        const struct elf64_shdr *st = &sh[sh[i].link];
        if (sh[i].offset >= size || sh[i].size > size - sh[i].offset || (sh[i].offset & 7) ||
            st->offset >= size || st->size > size - st->offset || !st->size)
            return;
        symtab = (const struct elf64_sym *)(data + sh[i].offset);
        nsyms = sh[i].size / sizeof(struct elf64_sym);
        strtab = (const char *)(data + st->offset);
        strtab_size = st->size;
        sym_bias = bias;
        return;
    }
}

void app_symbolize(uintptr_t pc, char *buf, size_t size)
{
    const struct elf64_sym *best = NULL;
    buf[0] = 0;
    if (!symtab)
        return;
    uint64_t addr = pc - sym_bias;
    for (size_t i = 0; i < nsyms; i++) {
        const struct elf64_sym *s = &symtab[i];
        unsigned type = s->info & 0xf;
        if ((type != STT_FUNC && type != STT_OBJECT) || !s->shndx || s->name >= strtab_size)
            continue;
        if (addr >= s->value && (addr < s->value + s->size || (!s->size && addr == s->value)) &&
            (!best || s->value > best->value))
            best = s;
    }
    if (best)
        snprintf(buf, size, "%.*s+%#llx", (int)MIN(strtab_size - best->name, 64u),
                 strtab + best->name, (unsigned long long)(addr - best->value));
}

int elf_load(const char *path, struct app_image *img, char *why, size_t ws)
{
    struct file *f;
    struct kstat st;
    int err = vfs_open(path, O_RDONLY, &f);
    if (err)
        return fail(why, ws, err, "cannot open it");
    vfs_fstat(f, &st);
    if ((st.mode & S_IFMT) != S_IFREG) {
        vfs_close(f);
        return fail(why, ws, -EACCES, "not a regular file");
    }
    if (!(st.mode & 0111)) {
        vfs_close(f);
        return fail(why, ws, -EACCES, "not executable (mode %04o)", st.mode & 07777);
    }
    const uint8_t *data = st.size ? vfs_map(f, 0, st.size) : NULL;
    vfs_close(f);                       /* the image stays in memory */
    if (!data)
        return fail(why, ws, -ENOEXEC, st.size ? "cannot be mapped" : "an empty file");

    struct elf64_ehdr eh;
    memset(&eh, 0, sizeof(eh));
    memcpy(&eh, data, MIN(st.size, sizeof(eh)));
    struct elf64_phdr ph[MAX_PHNUM];
    if (st.size >= sizeof(eh) && eh.phnum <= MAX_PHNUM && eh.phoff < st.size &&
        (uint64_t)eh.phnum * sizeof(ph[0]) <= st.size - eh.phoff)
        memcpy(ph, data + eh.phoff, eh.phnum * sizeof(ph[0]));
    err = check_headers(data, st.size, &eh, ph, why, ws);
    if (err)
        return err;

    memset(img, 0, sizeof(*img));
    img->pie = eh.type == ET_DYN;
    img->bias = img->pie ? vm_pie_base() - ALIGN_DOWN(ph[0].vaddr, PAGE_SIZE) : 0;
    /* (ph[0] need not be a PT_LOAD; the bias only has to be page-aligned.) */
    img->bias = ALIGN_DOWN(img->bias, PAGE_SIZE);
    img->entry = eh.entry + img->bias;
    img->phent = eh.phentsize;
    img->phnum = eh.phnum;

    struct vm_file file = { data, st.size };
    for (unsigned i = 0; i < eh.phnum; i++) {
        const struct elf64_phdr *p = &ph[i];
        if (p->type == PT_GNU_STACK)
            img->exec_stack = p->flags & PF_X;
        if (p->type == PT_PHDR)
            img->phdr = p->vaddr + img->bias;
        if (p->type != PT_LOAD)
            continue;
        if (!img->phdr && eh.phoff >= p->offset && eh.phoff < p->offset + p->filesz)
            img->phdr = p->vaddr + (eh.phoff - p->offset) + img->bias;

        unsigned prot = prot_of(p->flags);
        uintptr_t start = ALIGN_DOWN(p->vaddr + img->bias, PAGE_SIZE);
        uintptr_t file_end = p->vaddr + img->bias + p->filesz;
        uintptr_t mem_end = p->vaddr + img->bias + p->memsz;
        uintptr_t out;
        /* The file part, private: writes copy the page. A segment whose
         * .bss starts inside its last file page gets that page writable
         * for a moment, to zero the rest of it. */
        if (p->filesz) {
            bool zero_tail = mem_end > file_end && (file_end & (PAGE_SIZE - 1));
            err = vm_map(start, ALIGN_UP(file_end, PAGE_SIZE) - start,
                         zero_tail ? prot | PROT_WRITE : prot, VM_FIXED, &file,
                         ALIGN_DOWN(p->offset, PAGE_SIZE), &out);
            if (err)
                return fail(why, ws, err, "no memory for PT_LOAD %u", i);
            if (zero_tail) {
                memset((void *)file_end, 0, ALIGN_UP(file_end, PAGE_SIZE) - file_end);
                if (!(prot & PROT_WRITE))
                    vm_protect(start, ALIGN_UP(file_end, PAGE_SIZE) - start, prot);
            }
            start = ALIGN_UP(file_end, PAGE_SIZE);
        }
        if (ALIGN_UP(mem_end, PAGE_SIZE) > start) {
            err = vm_map(start, ALIGN_UP(mem_end, PAGE_SIZE) - start, prot, VM_FIXED, NULL, 0,
                         &out);
            if (err)
                return fail(why, ws, err, "no memory for the .bss of PT_LOAD %u", i);
        }
        if (ALIGN_UP(mem_end, PAGE_SIZE) > img->end)
            img->end = ALIGN_UP(mem_end, PAGE_SIZE);
    }
    if (!img->phdr)
        pr_warn("%s: the program headers are not in a loaded segment; AT_PHDR is 0\n", path);
    keep_symbols(data, st.size, &eh, img->bias);
    return 0;
}
