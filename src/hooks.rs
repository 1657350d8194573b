//! The hooks registered in one VM, and the chain that runs them on a call:
//! native, so that a hooked call costs one Call object, one protected block
//! call per hook, and nothing of the Ruby interpreter besides. Native
//! actions (tracing, counting: src/trace.rs) run in place of a block and
//! need no Call object at all.
//!
//! Each mruby state carries its Registry in `mrb->ud` (set when the gem
//! initialises a VM). The Ruby Hook objects (mrblib/hijack.rb) keep the
//! blocks alive for the GC; the registry keeps their order and state.
//!
//! Chain semantics, in registration order: an around hook's block decides
//! (its Integer value is the result; call.proceed runs the rest of the
//! chain, then the real function; a block that does neither lets the call
//! proceed); a before hook runs and then the rest, unless it failed the
//! call; an after hook runs the rest, then its block. `raise Errno::X` fails
//! the call; any other exception is reported once per hook and the call goes
//! on without that hook.
//!
//! Observers (the native tracing and counting actions) are not links of the
//! chain: they see every call the program made, whatever the chain decided
//! (a call a hook failed without the real function included), once it is
//! over; for the exec family, whose success never returns, also just before
//! the real call.

use crate::engine::Frame;
use crate::table::{CALLS, CALL_COUNT};
use crate::vm::CALL_TYPE;
use crate::{filter, ffi, log, mrb, shared, trace};
use std::ffi::c_void;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HookKind {
    Around,
    Before,
    After,
    /// A native observer (tracing, counting): outside the chain.
    Observe,
}

/// What a hook does: run a Ruby block, or one of the native actions that
/// never enter Ruby (tracing, counting).
#[derive(Clone, Copy)]
pub enum Action {
    Block(mrb::Value),
    Trace(usize),
    Count,
}

struct Hook {
    kind: HookKind,
    action: Action,
    object: mrb::Value,
    filter: Option<&'static filter::Filter>,
    enabled: bool,
    removed: bool,
}

pub struct Registry {
    hooks: Vec<Hook>,
    per_call: Vec<Vec<usize>>,
    classes: [*mut mrb::Class; CALL_COUNT],
    names: [ffi::mrb_sym; CALL_COUNT],
    system_call_error: *mut mrb::Class,
    /// This VM's (thread's) shortcuts to Hijack::Shared's counters.
    pub counters: shared::Counters,
    /// How many calls are between `begin` and `end` on this VM: while one
    /// is, removed hooks stay in the per-call lists (disabled), so that no
    /// chain position shifts under a walk; they go when the last call ends.
    walking: u32,
    stale: bool,
}

/// Creates the registry of a new VM (from the gem's init).
pub unsafe fn attach(mrb: *mut mrb::State) {
    let registry = Box::new(Registry {
        hooks: Vec::new(),
        per_call: vec![Vec::new(); CALL_COUNT],
        classes: [std::ptr::null_mut(); CALL_COUNT],
        names: [0; CALL_COUNT],
        system_call_error: mrb::class_get(mrb, c"SystemCallError"),
        counters: shared::Counters::default(),
        walking: 0,
        stale: false,
    });
    (*mrb).ud = Box::into_raw(registry) as *mut c_void;
}

/// Frees the registry of a VM being closed (from the gem's final).
#[no_mangle]
pub unsafe extern "C" fn hijack_detach_registry(mrb: *mut mrb::State) {
    let p = (*mrb).ud as *mut Registry;
    if !p.is_null() {
        (*mrb).ud = std::ptr::null_mut();
        drop(Box::from_raw(p));
    }
}

pub unsafe fn registry<'a>(mrb: *mut mrb::State) -> &'a mut Registry {
    &mut *((*mrb).ud as *mut Registry)
}

impl Registry {
    /// Adds a hook on call `id`; returns its index.
    pub fn add(&mut self, id: usize, kind: HookKind, action: Action, object: mrb::Value, filter: Option<&'static filter::Filter>) -> usize {
        self.hooks.push(Hook { kind, action, object, filter, enabled: true, removed: false });
        let index = self.hooks.len() - 1;
        self.per_call[id].push(index);
        index
    }

    pub fn set_enabled(&mut self, index: usize, enabled: bool) -> bool {
        match self.hooks.get_mut(index) {
            Some(h) if !h.removed => {
                h.enabled = enabled;
                true
            }
            _ => false,
        }
    }

    pub fn remove(&mut self, index: usize) {
        if let Some(h) = self.hooks.get_mut(index) {
            h.removed = true;
            h.enabled = false;
        }
        if self.walking > 0 {
            self.stale = true;
        } else {
            self.compact();
        }
    }

    /// Drops removed hooks from the per-call lists.
    fn compact(&mut self) {
        let hooks = &self.hooks;
        for list in self.per_call.iter_mut() {
            list.retain(|i| !hooks[*i].removed);
        }
        self.stale = false;
    }

    /// The symbol of call `id`'s name (interned once).
    pub unsafe fn name(&mut self, mrb: *mut mrb::State, id: usize) -> ffi::mrb_sym {
        if self.names[id] == 0 {
            self.names[id] = mrb::intern(mrb, CALLS[id].name);
        }
        self.names[id]
    }

    /// The Hijack::Call subclass of call `id` (built by Ruby once).
    unsafe fn class(&mut self, mrb: *mut mrb::State, id: usize) -> Option<*mut mrb::Class> {
        if self.classes[id].is_null() {
            let hijack = mrb::obj(ffi::mrb_module_get(mrb, c"Hijack".as_ptr()) as *mut c_void);
            let name = ffi::hijack_sym(self.name(mrb, id));
            let class = mrb::protect(mrb, |m| mrb::funcall(m, hijack, "__call_class", &[name])).ok()?;
            self.classes[id] = ffi::hijack_class_ptr(class);
        }
        Some(self.classes[id])
    }
}

/// How many after hooks of one call wait for its real call in the frame;
/// a longer chain runs the rest nested (as `run_from` does).
const WAITING: usize = 4;

/// An after hook waiting for the real call: its index and the chain
/// position after it.
#[derive(Clone, Copy)]
struct Waiting {
    index: u32,
    next: u32,
}

/// The state of a call's hooks between `begin` and `finish`, kept in its
/// frame.
pub struct Pending {
    mrb: *mut mrb::State,
    call: Option<mrb::Value>,
    arena: i32,
    waiting: [Waiting; WAITING],
    count: usize,
}

impl Pending {
    pub const fn new() -> Pending {
        let idle = Waiting { index: 0, next: 0 };
        Pending { mrb: std::ptr::null_mut(), call: None, arena: 0, waiting: [idle; WAITING], count: 0 }
    }
}

/// Runs the hooks registered in `mrb` on `frame`, the real call included
/// (for simulated calls and the one-VM-per-call mode).
pub unsafe fn run(mrb: *mut mrb::State, frame: &mut Frame) {
    if begin(mrb, frame) {
        frame.proceed();
    }
    finish(frame);
}

/// Runs the chain of `frame`'s call up to the real call, and says whether
/// the caller must make it now (then call `finish`). Before hooks run; after
/// hooks wait in the frame for `finish`, so that the real call is made on a
/// shallow stack. An around hook (or more after hooks than can wait) runs
/// the rest of the chain nested, real call included, as `run_from` does.
#[inline(always)]
pub unsafe fn begin(mrb: *mut mrb::State, frame: &mut Frame) -> bool {
    frame.hooks.mrb = mrb;
    registry(mrb).walking += 1;
    frame.hooks.arena = mrb::arena_index(mrb);
    let mut pos = 0;
    loop {
        let Some((index, kind, action, next)) = next_hook(mrb, frame, pos) else { return true };
        match kind {
            HookKind::After if frame.hooks.count < WAITING => {
                frame.hooks.waiting[frame.hooks.count] = Waiting { index: index as u32, next: next as u32 };
                frame.hooks.count += 1;
            }
            HookKind::Before => {
                frame.next_hook = next;
                frame.level_proceeded = false;
                run_in_frame(mrb, index, action, frame);
                // A failed call ends here; one the hook proceeded is done.
                if frame.failed || frame.level_proceeded {
                    return false;
                }
            }
            _ => {
                let mut call = frame.hooks.call;
                run_from(mrb, &mut call, frame, next - 1);
                frame.hooks.call = call;
                return false;
            }
        }
        pos = next;
    }
}

/// Runs the after hooks that waited for the real call, last registered
/// first (as nesting would), and ends the call for Ruby: a Call kept by a
/// hook is empty from now on.
#[inline(always)]
pub unsafe fn finish(frame: &mut Frame) {
    let mrb = frame.hooks.mrb;
    if mrb.is_null() {
        return;
    }
    while frame.hooks.count > 0 {
        frame.hooks.count -= 1;
        let w = frame.hooks.waiting[frame.hooks.count];
        // A hook disabled or removed meanwhile (by a hook of this very call)
        // does not run: disabling takes effect before the next hook runs.
        let hook = &registry(mrb).hooks[w.index as usize];
        if !hook.enabled {
            continue;
        }
        let action = hook.action;
        frame.next_hook = w.next as usize;
        frame.level_proceeded = true;
        run_in_frame(mrb, w.index as usize, action, frame);
    }
    observe(mrb, frame, false);
    end(frame);
}

/// Runs the observers of `frame`'s call that want it (enabled, filter
/// matching): `entering` just before the real call of an exec, else once
/// the call is over.
unsafe fn observe(mrb: *mut mrb::State, frame: &mut Frame, entering: bool) {
    let reg = registry(mrb);
    for &index in reg.per_call[frame.id].iter() {
        let h = &reg.hooks[index];
        if h.kind != HookKind::Observe || !h.enabled || h.filter.is_some_and(|f| !f.matches(frame.id, &frame.args[..frame.nargs])) {
            continue;
        }
        match h.action {
            Action::Trace(tracer) => trace::record(tracer, frame, entering),
            Action::Count => trace::count(frame, entering),
            Action::Block(_) => {}
        }
    }
}

/// Just before the real call of an exec (which returns only when it fails):
/// its observers write what they can now.
pub unsafe fn entering_exec(frame: &mut Frame) {
    let mrb = frame.hooks.mrb;
    if !mrb.is_null() {
        observe(mrb, frame, true);
    }
}

/// Runs hook `index`'s action with the frame's Call, which stays in the
/// frame (for `end` to empty whatever happens); an exception is handled as
/// `exception` says.
#[inline(always)]
unsafe fn run_in_frame(mrb: *mut mrb::State, index: usize, action: Action, frame: &mut Frame) {
    let mut call = frame.hooks.call;
    let outcome = run_action(mrb, action, frame, &mut call);
    frame.hooks.call = call;
    if let Some(Err(e)) = outcome {
        exception(mrb, index, &call, frame, e);
    }
}

/// Ends the call for Ruby (after `finish`, or in place of it when hook
/// machinery panicked): its Call is emptied and the values it made are
/// released.
pub unsafe fn end(frame: &mut Frame) {
    let mrb = frame.hooks.mrb;
    if mrb.is_null() {
        return;
    }
    if let Some(call) = frame.hooks.call.take() {
        ffi::hijack_data_set_ptr(call, std::ptr::null_mut());
    }
    mrb::arena_restore(mrb, frame.hooks.arena);
    frame.hooks.mrb = std::ptr::null_mut();
    let reg = registry(mrb);
    reg.walking = reg.walking.saturating_sub(1);
    if reg.walking == 0 && reg.stale {
        reg.compact();
    }
}

/// The Call object of `frame`, made when the first Ruby block needs it
/// (native actions do not).
unsafe fn call_object(mrb: *mut mrb::State, frame: &mut Frame, call: &mut Option<mrb::Value>) -> Option<mrb::Value> {
    if call.is_none() {
        let class = registry(mrb).class(mrb, frame.id)?;
        let data = ffi::mrb_data_object_alloc(mrb, class, frame as *mut Frame as *mut c_void, &CALL_TYPE.0);
        *call = Some(mrb::obj(data as *mut c_void));
    }
    *call
}

/// Runs a hook's action on the call: yields the Call to its block (None
/// when the Call could not be made), or does a native action (None).
unsafe fn run_action(mrb: *mut mrb::State, action: Action, frame: &mut Frame, call: &mut Option<mrb::Value>) -> Option<Result<mrb::Value, mrb::Value>> {
    match action {
        Action::Block(block) => {
            let c = call_object(mrb, frame, call)?;
            Some(mrb::protect(mrb, |m| ffi::mrb_yield(m, block, c)))
        }
        // (observers run outside the chain: see `observe`)
        Action::Trace(_) | Action::Count => None,
    }
}

/// The next hook of `frame`'s call from chain position `pos` that takes the
/// call (enabled, its filter matching): its index, kind, action and the
/// position after it.
#[inline(always)]
unsafe fn next_hook(mrb: *mut mrb::State, frame: &Frame, pos: usize) -> Option<(usize, HookKind, Action, usize)> {
    let id = frame.id;
    let reg = registry(mrb);
    let mut i = pos;
    loop {
        let &index = reg.per_call[id].get(i)?;
        i += 1;
        let h = &reg.hooks[index];
        if !h.enabled || h.kind == HookKind::Observe {
            continue;
        }
        if let Some(f) = h.filter {
            if !f.matches(id, &frame.args[..frame.nargs]) {
                continue;
            }
        }
        return Some((index, h.kind, h.action, i));
    }
}

/// Runs the chain from hook position `pos` (then the real function).
pub unsafe fn run_from(mrb: *mut mrb::State, call: &mut Option<mrb::Value>, frame: &mut Frame, pos: usize) {
    let Some((index, kind, action, i)) = next_hook(mrb, frame, pos) else {
        frame.proceed();
        return;
    };

    let saved = (frame.next_hook, frame.level_proceeded);
    frame.next_hook = i;
    frame.level_proceeded = false;
    match kind {
        HookKind::Before => {
            if let Some(Err(e)) = run_action(mrb, action, frame, call) {
                exception(mrb, index, call, frame, e);
            }
            if !frame.level_proceeded && !frame.failed {
                frame.level_proceeded = true;
                run_from(mrb, call, frame, i);
            }
        }
        // (next_hook never gives an observer)
        HookKind::After | HookKind::Observe => {
            frame.level_proceeded = true;
            run_from(mrb, call, frame, i);
            // (disabled by a hook of the rest of the chain: it does not run)
            if registry(mrb).hooks[index].enabled {
                if let Some(Err(e)) = run_action(mrb, action, frame, call) {
                    exception(mrb, index, call, frame, e);
                }
            }
        }
        HookKind::Around => match run_action(mrb, action, frame, call) {
            Some(Ok(v)) if mrb::as_int(v).is_some() => {
                frame.result = mrb::as_int(v).unwrap();
                frame.failed = false;
                frame.injected = true;
            }
            outcome => {
                if let Some(Err(e)) = outcome {
                    exception(mrb, index, call, frame, e);
                }
                if !frame.level_proceeded && !frame.failed {
                    frame.level_proceeded = true;
                    run_from(mrb, call, frame, i);
                }
            }
        },
    }
    (frame.next_hook, frame.level_proceeded) = saved;
}

/// A hook raised `e`: Errno fails the call; anything else is reported (once
/// per hook, by Hijack::Hook#__report, which also honours HIJACK_ON_ERROR).
unsafe fn exception(mrb: *mut mrb::State, index: usize, call: &Option<mrb::Value>, frame: &mut Frame, e: mrb::Value) {
    let reg = registry(mrb);
    if ffi::mrb_obj_is_kind_of(mrb, e, reg.system_call_error) {
        let errno = mrb::protect(mrb, |m| mrb::funcall(m, e, "errno", &[])).ok().and_then(|v| mrb::as_int(v));
        if frame.fail(errno.filter(|n| *n > 0).unwrap_or(libc::EIO as i64) as i32) {
            return;
        }
    }
    let object = reg.hooks[index].object;
    let call = match call {
        Some(c) => *c,
        None => mrb::nil(),
    };
    if mrb::protect(mrb, |m| mrb::funcall(m, object, "__report", &[call, e])).is_err() {
        log::line("hijack: an exception in a hook could not be reported");
    }
}
