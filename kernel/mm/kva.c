/*
 * Guarded kernel virtual regions (thread stacks). Virtual space is cut from
 * a dedicated window, one slot per region: [guard page][size bytes]. Freed
 * slots of the same size are reused, so the window does not run out
 * under thread churn.
 */
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/backtrace.h>
#include <kern/kva.h>
#include <kern/list.h>
#include <kern/page_alloc.h>
#include <kern/panic.h>
#include <kern/spinlock.h>
#include <kern/string.h>

#define KVA_BASE  0xffffc00000000000UL
#define KVA_SIZE  (64UL << 30)

struct free_slot {
    struct list_head link;
    uintptr_t va;
    size_t size;
};

static spinlock_t lock = SPINLOCK_INIT;
static uintptr_t next_va = KVA_BASE;
static struct list_head free_slots = LIST_HEAD_INIT(free_slots);
/* Slot descriptors live in a static pool: kmalloc is not needed here. */
static struct free_slot pool[1024];
static struct list_head pool_free = LIST_HEAD_INIT(pool_free);
static bool pool_ready;

static void release_pages(uintptr_t va, size_t mapped);
static void release_slot(uintptr_t va, size_t size);

static void release_pages(uintptr_t va, size_t mapped)
{
    for (size_t off = 0; off < mapped; off += PAGE_SIZE)
        page_free(arch_virt_to_phys(va + off), 0);
    arch_unmap(va, mapped);
}

static void release_slot(uintptr_t va, size_t size)
{
    unsigned long flags = spin_lock_irqsave(&lock);
    if (list_empty(&pool_free))
        panic("kva: more than %zu free slots", ARRAY_SIZE(pool));
    struct free_slot *s = list_first_entry(&pool_free, struct free_slot, link);
    list_del(&s->link);
    s->va = va;
    s->size = size;
    list_add(&s->link, &free_slots);
    spin_unlock_irqrestore(&lock, flags);
}

void *kva_alloc_guarded(size_t size)
{
    size = ALIGN_UP(size, PAGE_SIZE);
    uintptr_t va = 0;

    unsigned long flags = spin_lock_irqsave(&lock);
    if (!pool_ready) {          /* first use: the descriptor pool */
        for (size_t i = 0; i < ARRAY_SIZE(pool); i++)
            list_add_tail(&pool[i].link, &pool_free);
        pool_ready = true;
    }
    struct list_head *pos;
    list_for_each(pos, &free_slots) {
        struct free_slot *s = list_entry(pos, struct free_slot, link);
        if (s->size == size) {
            va = s->va;
            list_del(&s->link);
            list_add(&s->link, &pool_free);
            break;
        }
    }
    if (!va && next_va + PAGE_SIZE + size <= KVA_BASE + KVA_SIZE) {
        va = next_va + PAGE_SIZE;          /* leave the guard unmapped */
        next_va += PAGE_SIZE + size;
    }
    spin_unlock_irqrestore(&lock, flags);
    if (!va)
        return NULL;

    for (size_t off = 0; off < size; off += PAGE_SIZE) {
        paddr_t pa = page_alloc(0);
        if (!pa) {
            release_pages(va, off);
            release_slot(va, size);
            return NULL;
        }
        memset(phys_to_virt(pa), 0, PAGE_SIZE);
        arch_map(va + off, pa, PAGE_SIZE, MAP_WRITE);
    }
    return (void *)va;
}

void kva_free_guarded(void *p, size_t size)
{
    size = ALIGN_UP(size, PAGE_SIZE);
    release_pages((uintptr_t)p, size);
    release_slot((uintptr_t)p, size);
}
