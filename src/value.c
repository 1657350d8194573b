/* Functions for what mruby offers only as inline functions or macros, so
 * that the Rust side never depends on the boxing (word, NaN or none) of the
 * libmruby it is linked with. */
#include "bindings.h"

mrb_value hijack_nil(void) { return mrb_nil_value(); }
mrb_value hijack_bool(mrb_bool b) { return mrb_bool_value(b); }
mrb_value hijack_int(mrb_state *mrb, mrb_int i) { return mrb_int_value(mrb, i); }
mrb_value hijack_float(mrb_state *mrb, double f) { return mrb_float_value(mrb, (mrb_float)f); }
double hijack_float_of(mrb_value v) { return (double)mrb_float(v); }
mrb_value hijack_sym(mrb_sym s) { return mrb_symbol_value(s); }
mrb_value hijack_obj(void *p) { return mrb_obj_value(p); }
enum mrb_vtype hijack_type(mrb_value v) { return mrb_type(v); }
mrb_bool hijack_nil_p(mrb_value v) { return mrb_nil_p(v); }
mrb_bool hijack_integer_p(mrb_value v) { return mrb_integer_p(v); }
mrb_int hijack_integer(mrb_value v) { return mrb_integer(v); }
mrb_sym hijack_symbol(mrb_value v) { return mrb_symbol(v); }
const char *hijack_str_ptr(mrb_value v) { return RSTRING_PTR(v); }
mrb_int hijack_str_len(mrb_value v) { return RSTRING_LEN(v); }
mrb_int hijack_ary_len(mrb_value v) { return mrb_array_p(v) ? RARRAY_LEN(v) : -1; }
void hijack_set_instance_tt_data(struct RClass *c) { MRB_SET_INSTANCE_TT(c, MRB_TT_CDATA); }
void *hijack_data_ptr(mrb_value v) { return DATA_PTR(v); }
void hijack_data_set_ptr(mrb_value v, void *p) { DATA_PTR(v) = p; }
struct RClass *hijack_class_ptr(mrb_value v) { return mrb_class_ptr(v); }
/* The positional arguments of the running native method where they are on
 * the VM's stack (mrb_get_argv, without mrb_get_args's format parsing);
 * NULL when keywords were passed too (mrb_get_args then folds them in). */
const mrb_value *
hijack_args_in_place(mrb_state *mrb, mrb_int *argc)
{
  if (mrb->c->ci->nk != 0) return NULL;
  *argc = mrb_get_argc(mrb);
  return mrb_get_argv(mrb);
}

/* mrb_open_allocf, its gems initialised with the garbage collector off
 * (nothing they make is garbage: a collection there only marks it all),
 * then on as after a collection (gc.c's incremental_gc_finish): the next
 * one begins once the heap has grown by the interval ratio. From state.c. */
void mrb_init_mrbgems(mrb_state *mrb);
int mrb_core_init_protect(mrb_state *mrb, void (*body)(mrb_state *, void *), void *opaque);

static void
init_gems(mrb_state *mrb, void *opaque)
{
  (void)opaque;
  mrb_init_mrbgems(mrb);
}

mrb_state *
hijack_open(mrb_allocf f, void *ud)
{
  mrb_state *mrb = mrb_open_core(f, ud);
  if (mrb == NULL) return NULL;
  mrb_gc *gc = &mrb->gc;
  gc->disabled = TRUE;
  if (mrb_core_init_protect(mrb, init_gems, NULL)) {
    mrb_close(mrb);
    return NULL;
  }
  mrb_gc_arena_restore(mrb, 0);
  gc->disabled = FALSE;
  if (gc->state == MRB_GC_STATE_ROOT) {
    size_t threshold = (gc->live / 100) * gc->interval_ratio;
    if (threshold > gc->threshold) gc->threshold = threshold;
  }
  return mrb;
}

const struct mrb_irep *hijack_proc_irep(const struct RProc *p) { return p->body.irep; }

mrb_value
hijack_take_exception(mrb_state *mrb)
{
  mrb_value exc = mrb->exc ? mrb_obj_value(mrb->exc) : mrb_nil_value();
  mrb->exc = NULL;
  return exc;
}
