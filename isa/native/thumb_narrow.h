/* Shared pieces of the native table classifier (built in thumb_build.c, thumb_text.c; used by
 * thumb_narrow.c, thumb_wide.c and the others), as isa/thumb_fields.py is for the Python one. */
#ifndef MCUSIM_THUMB_NARROW_H
#define MCUSIM_THUMB_NARROW_H

#include "thumb_decode.h"

extern const char *const NAME[16];
extern const uint8_t REG[16];
extern const char *const CONDITIONS[14];

void td_imm(char *buf, int64_t v);
void td_negative_hex(char *buf, uint64_t magnitude);
int td_format(char *buf, int cap, const char *format, ...);
void td_text(td_insn *o, const char *format, ...);
void td_regs_of(td_regs *r, int n, ...);
void td_start(td_insn *o, int size, int cls);
void td_alu(td_insn *o, int size, int dest, int cls);
int td_mem(td_insn *o, int size, int load, int rt, int rn, int rm, int64_t disp);
int td_push_pop(td_insn *o, int pop, unsigned low, int extra, int size, const char *suffix);
int td_narrow(unsigned hw, int64_t address, td_insn *o);
int td_wide(unsigned hw1, unsigned hw2, int64_t address, td_insn *o);
/* thumb_wide_more.c */
int td_shift_immediate(unsigned hw1, unsigned hw2, td_insn *o);
int td_shift_register(unsigned hw1, unsigned hw2, td_insn *o);
int td_plain_immediate(unsigned hw1, unsigned hw2, td_insn *o);
int td_load_store_dual(unsigned hw1, unsigned hw2, td_insn *o);
int td_load_store_writeback(const char *name, unsigned hw1, unsigned hw2, td_insn *o);
/* thumb_dsp.c */
int td_saturate(unsigned hw1, unsigned hw2, td_insn *o);
int td_extend(unsigned hw1, unsigned hw2, td_insn *o);
int td_parallel_and_misc(unsigned hw1, unsigned hw2, td_insn *o);
int td_divide(unsigned hw1, unsigned hw2, td_insn *o);
/* thumb_memory.c */
int td_load_store_multiple(unsigned hw1, unsigned hw2, td_insn *o);
int td_pop_push_wide(unsigned hw1, unsigned hw2, td_insn *o);
int td_load_store_dual_writeback(unsigned hw1, unsigned hw2, td_insn *o);
int td_preload(unsigned hw1, unsigned hw2, td_insn *o);
int td_load_store_multiple_narrow(unsigned hw, td_insn *o);
int td_table_branch(unsigned hw1, unsigned hw2, td_insn *o);
/* thumb_fp.c */
int td_load_store_fp(unsigned hw1, unsigned hw2, td_insn *o);
int td_move_fp(unsigned hw1, unsigned hw2, td_insn *o);
int td_load_store_multiple_fp(unsigned hw1, unsigned hw2, td_insn *o);
int td_arithmetic_fp(unsigned hw1, unsigned hw2, td_insn *o);
int td_other_fp(unsigned hw1, unsigned hw2, td_insn *o);
int td_fpscr_move(unsigned hw1, unsigned hw2, td_insn *o);
/* thumb_system.c */
int td_system_narrow(unsigned hw, td_insn *o);
int td_system_wide(unsigned hw1, unsigned hw2, td_insn *o);

#endif
