/* The mruby API as the Rust side sees it (bindgen reads this file with the
 * exact defines of the libmruby being built), plus the hijack_* helpers of
 * value.c that stand in for mruby's inline functions and macros, whose
 * layout depends on the boxing of the target. */
#ifndef HIJACK_BINDINGS_H
#define HIJACK_BINDINGS_H

#include <mruby.h>
#include <mruby/array.h>
#include <mruby/class.h>
#include <mruby/compile.h>
#include <mruby/data.h>
#include <mruby/dump.h>
#include <mruby/error.h>
#include <mruby/hash.h>
#include <mruby/irep.h>
#include <mruby/proc.h>
#include <mruby/string.h>
#include <mruby/variable.h>
#include <mruby/internal.h>

mrb_value hijack_nil(void);
mrb_value hijack_bool(mrb_bool b);
mrb_value hijack_int(mrb_state *mrb, mrb_int i);
mrb_value hijack_float(mrb_state *mrb, double f);
double hijack_float_of(mrb_value v);
mrb_value hijack_sym(mrb_sym s);
mrb_value hijack_obj(void *p);
enum mrb_vtype hijack_type(mrb_value v);
mrb_bool hijack_nil_p(mrb_value v);
mrb_bool hijack_integer_p(mrb_value v);
mrb_int hijack_integer(mrb_value v);
mrb_sym hijack_symbol(mrb_value v);
const char *hijack_str_ptr(mrb_value v);
mrb_int hijack_str_len(mrb_value v);
mrb_int hijack_ary_len(mrb_value v);
const mrb_value *hijack_args_in_place(mrb_state *mrb, mrb_int *argc);
void hijack_set_instance_tt_data(struct RClass *c);
void *hijack_data_ptr(mrb_value v);
void hijack_data_set_ptr(mrb_value v, void *p);
mrb_state *hijack_open(mrb_allocf f, void *ud);
struct RClass *hijack_class_ptr(mrb_value v);
mrb_value hijack_take_exception(mrb_state *mrb);
const struct mrb_irep *hijack_proc_irep(const struct RProc *p);

#endif
