//! The hooks registered in one VM, and the chain that runs them on a call:
//! native, so that a hooked call costs one Call object, one protected block
//! call per hook, and nothing of the Ruby interpreter besides. Native
//! observers (tracing, counting: features::trace and features::summary,
//! given as [`Observer`] functions) need no Call object at all.
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

use crate::frame::Frame;
use crate::table::{CALLS, CALL_COUNT};
use crate::{features::filter, features::shared, platform::log, ruby::mrb};
use std::ffi::c_void;

/// The data type of Hijack::Call objects: a pointer to the [`Invocation`]
/// on the stack of the interposed call, cleared when the call returns.
pub static CALL_TYPE: mrb::DataType = mrb::DataType::named(c"Hijack::Call");

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HookKind {
    Around,
    Before,
    After,
    /// A native observer (tracing, counting): outside the chain.
    Observe,
}

/// What a hook does: run a Ruby block, or a native observer that never
/// enters Ruby (tracing, counting: the features give the function, see
/// [`Observer`]).
#[derive(Clone, Copy)]
pub enum Action {
    Block(mrb::Value),
    Observe(Observer),
}

/// A native observer: `run(arg, frame, entering)` once the call is over,
/// and, for the exec family, just before its real call (`entering`).
#[derive(Clone, Copy)]
pub struct Observer {
    pub run: unsafe fn(usize, &Frame, bool),
    pub arg: usize,
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
    names: [mrb::Sym; CALL_COUNT],
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

/// The registry of `mrb`. A raw pointer: a reference made from it must end
/// before anything that can run Ruby (which may add or remove hooks).
pub unsafe fn registry(mrb: *mut mrb::State) -> *mut Registry {
    (*mrb).ud as *mut Registry
}

/// Runs `f` on the registry of `mrb`; `f` must not run Ruby code.
pub unsafe fn with_registry<T>(mrb: *mut mrb::State, f: impl FnOnce(&mut Registry) -> T) -> T {
    f(&mut *registry(mrb))
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

    /// The symbol of the name call `id` goes by (the system call's: openat
    /// for open64), interned once.
    pub unsafe fn name(&mut self, mrb: *mut mrb::State, id: usize) -> mrb::Sym {
        if self.names[id] == 0 {
            self.names[id] = mrb::intern(mrb, crate::table::names::call_name(id));
        }
        self.names[id]
    }

}

/// Whether no call's chain is running in `mrb` and its VM is at its base
/// (not inside Ruby).
pub unsafe fn idle(mrb: *mut mrb::State) -> bool {
    (*registry(mrb)).walking == 0 && mrb::at_base(mrb)
}

/// The Hijack::Call subclass of call `id` in `mrb` (built by Ruby once).
unsafe fn call_class(mrb: *mut mrb::State, id: usize) -> Option<*mut mrb::Class> {
    let reg = registry(mrb);
    if (*reg).classes[id].is_null() {
        let hijack = mrb::class_value(mrb::module_get(mrb, c"Hijack"));
        let name = mrb::symbol(mrb, CALLS[id].name.as_str());
        // (Ruby runs here: no reference into the registry is alive)
        let class = mrb::protect(mrb, |m| mrb::funcall(m, hijack, "__call_class", &[name])).ok()?;
        (*reg).classes[id] = mrb::class_of_value(class);
    }
    Some((*reg).classes[id])
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

/// A call as the hook chain runs it: its frame (the call's data) and the
/// chain's own state, kept apart from it. The dispatch keeps it in place
/// from `begin` to `finish`, and the call's Hijack::Call object points to
/// it.
///
/// The chain's functions take it as a raw pointer, and so do the Call's
/// methods that run the chain (`proceed`): a reference into it lives only
/// within one native step, never across a call into Ruby, which may reach
/// the same invocation again through its Call.
pub struct Invocation<'a> {
    pub frame: Frame<'a>,
    chain: Chain,
}

/// The state of a call's chain between `begin` and `finish`.
struct Chain {
    mrb: *mut mrb::State,
    call: Option<mrb::Value>,
    arena: i32,
    waiting: [Waiting; WAITING],
    count: usize,
    /// Where call.proceed goes on in the chain.
    next_hook: usize,
    /// Whether the running hook has proceeded.
    level_proceeded: bool,
}

impl<'a> Invocation<'a> {
    pub fn new(frame: Frame<'a>) -> Invocation<'a> {
        let idle = Waiting { index: 0, next: 0 };
        let chain = Chain {
            mrb: std::ptr::null_mut(),
            call: None,
            arena: 0,
            waiting: [idle; WAITING],
            count: 0,
            next_hook: 0,
            level_proceeded: false,
        };
        Invocation { frame, chain }
    }
}

/// `call.proceed` from the running hook of `inv`: runs the rest of the
/// chain, then the real function. Err when this hook proceeded already.
pub unsafe fn proceed(mrb: *mut mrb::State, inv: *mut Invocation, call: mrb::Value) -> Result<i64, ()> {
    if (*inv).chain.level_proceeded {
        return Err(());
    }
    (*inv).chain.level_proceeded = true;
    let next = (*inv).chain.next_hook;
    run_from(mrb, &mut Some(call), inv, next);
    Ok((*inv).frame.result)
}

/// Runs the hooks registered in `mrb` on `inv`, the real call included
/// (for simulated calls and the one-VM-per-call mode).
pub unsafe fn run(mrb: *mut mrb::State, inv: *mut Invocation) {
    if begin(mrb, inv) {
        (*inv).frame.proceed();
    }
    finish(inv);
}

/// Runs the chain of `inv`'s call up to the real call, and says whether the
/// caller must make it now (then call `finish`). Before hooks run; after
/// hooks wait in the chain for `finish`, so that the real call is made on a
/// shallow stack. An around hook (or more after hooks than can wait) runs
/// the rest of the chain nested, real call included, as `run_from` does.
#[inline(always)]
pub unsafe fn begin(mrb: *mut mrb::State, inv: *mut Invocation) -> bool {
    (*inv).chain.mrb = mrb;
    (*registry(mrb)).walking += 1;
    (*inv).chain.arena = mrb::arena_index(mrb);
    let mut pos = 0;
    loop {
        let Some((index, kind, action, next)) = next_hook(mrb, inv, pos) else { return true };
        match kind {
            HookKind::After if (*inv).chain.count < WAITING => {
                let chain = &mut (*inv).chain;
                chain.waiting[chain.count] = Waiting { index: index as u32, next: next as u32 };
                chain.count += 1;
            }
            HookKind::Before => {
                (*inv).chain.next_hook = next;
                (*inv).chain.level_proceeded = false;
                run_in_chain(mrb, index, action, inv);
                // A failed call ends here; one the hook proceeded is done.
                if (*inv).frame.failed || (*inv).chain.level_proceeded {
                    return false;
                }
            }
            _ => {
                let mut call = (*inv).chain.call;
                run_from(mrb, &mut call, inv, next - 1);
                (*inv).chain.call = call;
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
pub unsafe fn finish(inv: *mut Invocation) {
    let mrb = (*inv).chain.mrb;
    if mrb.is_null() {
        return;
    }
    while (*inv).chain.count > 0 {
        (*inv).chain.count -= 1;
        let w = (*inv).chain.waiting[(*inv).chain.count];
        // A hook disabled or removed meanwhile (by a hook of this very call)
        // does not run: disabling takes effect before the next hook runs.
        let (enabled, action) = hook_state(mrb, w.index as usize);
        if !enabled {
            continue;
        }
        (*inv).chain.next_hook = w.next as usize;
        (*inv).chain.level_proceeded = true;
        run_in_chain(mrb, w.index as usize, action, inv);
    }
    observe(mrb, &(*inv).frame, false);
    end(inv);
}

/// Whether hook `index` of `mrb` is enabled now, and its action.
unsafe fn hook_state(mrb: *mut mrb::State, index: usize) -> (bool, Action) {
    let reg = &*registry(mrb);
    let h = &reg.hooks[index];
    (h.enabled, h.action)
}

/// Runs the observers of `frame`'s call that want it (enabled, filter
/// matching): `entering` just before the real call of an exec, else once
/// the call is over. (Observers never run Ruby.)
pub unsafe fn observe(mrb: *mut mrb::State, frame: &Frame, entering: bool) {
    let reg = &*registry(mrb);
    for &index in reg.per_call[frame.id].iter() {
        let h = &reg.hooks[index];
        if h.kind != HookKind::Observe || !h.enabled || h.filter.is_some_and(|f| !f.matches(frame.id, &frame.args[..frame.nargs])) {
            continue;
        }
        if let Action::Observe(o) = h.action {
            (o.run)(o.arg, frame, entering);
        }
    }
}

/// Runs hook `index`'s action with the chain's Call, which stays in the
/// chain (for `end` to empty whatever happens); an exception is handled as
/// `exception` says.
#[inline(always)]
unsafe fn run_in_chain(mrb: *mut mrb::State, index: usize, action: Action, inv: *mut Invocation) {
    let mut call = (*inv).chain.call;
    let outcome = run_action(mrb, action, inv, &mut call);
    (*inv).chain.call = call;
    if let Some(Err(e)) = outcome {
        exception(mrb, index, &call, inv, e);
    }
}

/// Ends the call for Ruby (after `finish`, or in place of it when hook
/// machinery panicked): its Call is emptied and the values it made are
/// released.
pub unsafe fn end(inv: *mut Invocation) {
    let mrb = (*inv).chain.mrb;
    if mrb.is_null() {
        return;
    }
    if let Some(call) = (*inv).chain.call.take() {
        mrb::data_clear(call);
    }
    mrb::arena_restore(mrb, (*inv).chain.arena);
    (*inv).chain.mrb = std::ptr::null_mut();
    let reg = &mut *registry(mrb);
    reg.walking = reg.walking.saturating_sub(1);
    if reg.walking == 0 && reg.stale {
        reg.compact();
    }
}

/// The Call object of `inv`, made when the first Ruby block needs it
/// (native actions do not).
unsafe fn call_object(mrb: *mut mrb::State, inv: *mut Invocation, call: &mut Option<mrb::Value>) -> Option<mrb::Value> {
    if call.is_none() {
        let class = call_class(mrb, (*inv).frame.id)?;
        *call = Some(mrb::data_new(mrb, class, inv as *mut c_void, &CALL_TYPE));
    }
    *call
}

/// Runs a hook's action on the call: yields the Call to its block (None
/// when the Call could not be made), or nothing for an observer (None).
unsafe fn run_action(mrb: *mut mrb::State, action: Action, inv: *mut Invocation, call: &mut Option<mrb::Value>) -> Option<Result<mrb::Value, mrb::Value>> {
    match action {
        Action::Block(block) => {
            let c = call_object(mrb, inv, call)?;
            // (Ruby runs here: no reference into `inv` is alive)
            Some(mrb::protect(mrb, |m| mrb::yield_to(m, block, c)))
        }
        // (observers run outside the chain: see `observe`)
        Action::Observe(_) => None,
    }
}

/// The next hook of `inv`'s call from chain position `pos` that takes the
/// call (enabled, its filter matching): its index, kind, action and the
/// position after it.
#[inline(always)]
unsafe fn next_hook(mrb: *mut mrb::State, inv: *mut Invocation, pos: usize) -> Option<(usize, HookKind, Action, usize)> {
    let frame = &(*inv).frame;
    let id = frame.id;
    let reg = &*registry(mrb);
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
pub unsafe fn run_from(mrb: *mut mrb::State, call: &mut Option<mrb::Value>, inv: *mut Invocation, pos: usize) {
    let Some((index, kind, action, i)) = next_hook(mrb, inv, pos) else {
        (*inv).frame.proceed();
        return;
    };

    let saved = ((*inv).chain.next_hook, (*inv).chain.level_proceeded);
    (*inv).chain.next_hook = i;
    (*inv).chain.level_proceeded = false;
    match kind {
        HookKind::Before => {
            if let Some(Err(e)) = run_action(mrb, action, inv, call) {
                exception(mrb, index, call, inv, e);
            }
            if !(*inv).chain.level_proceeded && !(*inv).frame.failed {
                (*inv).chain.level_proceeded = true;
                run_from(mrb, call, inv, i);
            }
        }
        // (next_hook never gives an observer)
        HookKind::After | HookKind::Observe => {
            (*inv).chain.level_proceeded = true;
            run_from(mrb, call, inv, i);
            // (disabled by a hook of the rest of the chain: it does not run)
            if hook_state(mrb, index).0 {
                if let Some(Err(e)) = run_action(mrb, action, inv, call) {
                    exception(mrb, index, call, inv, e);
                }
            }
        }
        HookKind::Around => match run_action(mrb, action, inv, call) {
            Some(Ok(v)) if mrb::as_int(v).is_some() => {
                let frame = &mut (*inv).frame;
                frame.result = mrb::as_int(v).unwrap();
                frame.failed = false;
                frame.injected = true;
            }
            outcome => {
                if let Some(Err(e)) = outcome {
                    exception(mrb, index, call, inv, e);
                }
                if !(*inv).chain.level_proceeded && !(*inv).frame.failed {
                    (*inv).chain.level_proceeded = true;
                    run_from(mrb, call, inv, i);
                }
            }
        },
    }
    ((*inv).chain.next_hook, (*inv).chain.level_proceeded) = saved;
}

/// A hook raised `e`: Errno fails the call; anything else is reported (once
/// per hook, by Hijack::Hook#__report, which also honours HIJACK_ON_ERROR).
unsafe fn exception(mrb: *mut mrb::State, index: usize, call: &Option<mrb::Value>, inv: *mut Invocation, e: mrb::Value) {
    let (system_call_error, object) = {
        let reg = &*registry(mrb);
        (reg.system_call_error, reg.hooks[index].object)
    };
    if mrb::is_kind_of(mrb, e, system_call_error) {
        let errno = mrb::protect(mrb, |m| mrb::funcall(m, e, "errno", &[])).ok().and_then(|v| mrb::as_int(v));
        if (*inv).frame.fail(errno.filter(|n| *n > 0).unwrap_or(libc::EIO as i64) as i32) {
            return;
        }
    }
    let call = match call {
        Some(c) => *c,
        None => mrb::nil(),
    };
    if mrb::protect(mrb, |m| mrb::funcall(m, object, "__report", &[call, e])).is_err() {
        log::line("hijack: an exception in a hook could not be reported");
    }
}
