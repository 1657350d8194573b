/* The gem's init trampoline: mruby calls it when a VM opens, before the
 * gem's mrblib is loaded; the Hijack module and its native methods are
 * defined on the Rust side (src/ruby/native/). */
#include "bindings.h"

void hijack_define_module(mrb_state *mrb);
void hijack_detach_registry(mrb_state *mrb);

void
mrb_mruby_hijack_gem_init(mrb_state *mrb)
{
  hijack_define_module(mrb);
}

void
mrb_mruby_hijack_gem_final(mrb_state *mrb)
{
  hijack_detach_registry(mrb);
}
