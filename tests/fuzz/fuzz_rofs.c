/*
 * libFuzzer target for the ROFS reader (kernel/fs/rofs/rofs_reader.c).
 *
 * Each input is tried twice: as it is, and with the superblock's metadata
 * CRC recomputed, because nearly every mutation breaks the checksum and
 * would otherwise never get past rofs_open to the inode, entry and tree
 * validation that matters. Built by `make fuzz` with
 * -fsanitize=fuzzer,address,undefined; tests/fuzz/run.sh seeds it with
 * images made by `tern mkrofs` and runs it for a bounded time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rofs_exercise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rofs_exercise(data, size);

    if (size < ROFS_SB_SIZE || size > (1u << 22))
        return 0;
    uint64_t data_off = 0;
    for (int i = 7; i >= 0; i--)
        data_off = data_off << 8 | data[ROFS_SB_DATAOFF + i];
    if (data_off < ROFS_SB_SIZE || data_off > size)
        return 0;
    uint8_t *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    uint32_t crc = rofs_meta_crc(copy, data_off);
    for (int i = 0; i < 4; i++)
        copy[ROFS_SB_CRC + i] = (uint8_t)(crc >> (8 * i));
    rofs_exercise(copy, size);
    free(copy);
    return 0;
}
