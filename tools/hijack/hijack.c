/* The hijack runner: hands ARGV to __main__ (mrblib/cli.rb), whose value is
 * the exit status. Everything else is Ruby, with native helpers in Rust. */
#include <stdio.h>
#include <mruby.h>
#include <mruby/array.h>
#include <mruby/string.h>
#include <mruby/variable.h>

int
main(int argc, char **argv)
{
  mrb_state *mrb = mrb_open();
  if (mrb == NULL) {
    fputs("hijack: mruby could not start\n", stderr);
    return 70;
  }
  mrb_value args = mrb_ary_new_capa(mrb, argc);
  for (int i = 0; i < argc; i++) {
    mrb_ary_push(mrb, args, mrb_str_new_cstr(mrb, argv[i]));
  }
  mrb_value status = mrb_funcall(mrb, mrb_top_self(mrb), "__main__", 1, args);
  int code = 70;
  if (mrb->exc) {
    mrb_print_error(mrb);
  } else if (mrb_integer_p(status)) {
    code = (int)mrb_integer(status);
  }
  mrb_close(mrb);
  return code;
}
