/* The profiler of the native hot path: sim/profiler.py's CallTracker, mirrored exactly. */
#include "hotpath.h"

int prof_function(hp_profile *p, int32_t f)
{
    hp_column cols[] = {COLUMN(p->calls), COLUMN(p->incl_cycles), COLUMN(p->incl_insns),
                        COLUMN(p->active), COLUMN(p->has_incl)};
    return grow_columns(&p->funcs_cap, (uint32_t)f + 1, cols, 5);
}

static int32_t prof_node(hp_profile *p, int32_t parent, int32_t function)
{
    uint64_t key = ((uint64_t)(uint32_t)(parent + 1) << 32) | (uint32_t)function;
    int32_t n = map_get(&p->nodes, key);
    if (n >= 0)
        return n;
    n = (int32_t)p->nodes.n;
    hp_column cols[] = {COLUMN(p->node_parent), COLUMN(p->node_function),
                        COLUMN(p->node_cycles)};
    if (grow_columns(&p->nodes_cap, (uint32_t)n + 1, cols, 3) < 0)
        return -1;
    p->node_parent[n] = parent;
    p->node_function[n] = function;
    map_put(&p->nodes, key, n);
    return n;
}

static int32_t prof_edge(hp_profile *p, int32_t caller, int32_t callee)
{
    uint64_t key = ((uint64_t)(uint32_t)caller << 32) | (uint32_t)callee;
    int32_t e = map_get(&p->edges, key);
    if (e >= 0)
        return e;
    e = (int32_t)p->edges.n;
    hp_column cols[] = {COLUMN(p->edge_key), COLUMN(p->edge_calls), COLUMN(p->edge_cycles),
                        COLUMN(p->edge_insns)};
    if (grow_columns(&p->edges_cap, (uint32_t)e + 1, cols, 4) < 0)
        return -1;
    p->edge_key[e] = key;
    map_put(&p->edges, key, e);
    return e;
}

static int slice_less(const hp_slice *a, const hp_slice *b)
{
    return a->duration < b->duration || (a->duration == b->duration && a->seq < b->seq);
}

static void heap_down(hp_slice *h, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && slice_less(&h[l], &h[m])) m = l;
        if (r < n && slice_less(&h[r], &h[m])) m = r;
        if (m == i)
            return;
        hp_slice t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void add_slice(hp_profile *p, int32_t function, uint64_t start, uint64_t end,
                      int32_t depth)
{
    hp_slice item = {end - start, ++p->seq, start, end, function, depth};
    if (p->nheap < p->max_slices) {
        uint32_t i = p->nheap++;
        p->heap[i] = item;
        while (i > 0 && slice_less(&p->heap[i], &p->heap[(i - 1) / 2])) {
            hp_slice t = p->heap[i];
            p->heap[i] = p->heap[(i - 1) / 2];
            p->heap[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
        return;
    }
    p->dropped++;
    if (p->nheap && slice_less(&p->heap[0], &item)) {
        p->heap[0] = item;
        heap_down(p->heap, p->nheap, 0);
    }
}

static void prof_close(hp_profile *p, const hp_frame *f, uint64_t cycles, uint64_t insns,
                       int32_t depth)
{
    p->active[f->function]--;
    uint64_t duration = cycles - f->start_cycles, n = insns - f->start_instructions;
    if (p->active[f->function] == 0) {
        p->incl_cycles[f->function] += duration;
        p->incl_insns[f->function] += n;
        p->has_incl[f->function] = 1;
    }
    /* Not on the stack any more: no other activation is active (recursion counts once). */
    if (f->caller >= 0 && p->active[f->function] == 0) {
        int32_t e = prof_edge(p, f->caller, f->function);
        if (e < 0)
            return;
        p->edge_cycles[e] += duration;
        p->edge_insns[e] += n;
    }
    add_slice(p, f->function, f->start_cycles, cycles, depth);
}

static void prof_push(hp_profile *p, int32_t function, int64_t ret, uint64_t cycles,
                      uint64_t insns, int32_t caller)
{
    hp_column cols[] = {COLUMN(p->frames)};
    if (grow_columns(&p->frames_cap, p->nframes + 1, cols, 1) < 0)
        return;
    p->node = prof_node(p, p->node, function);
    p->frames[p->nframes++] = (hp_frame){function, caller, p->node, ret, cycles, insns};
    p->calls[function]++;
    p->active[function]++;
    int32_t e = prof_edge(p, caller, function);  /* may move edge_calls: index it after */
    if (e >= 0)
        p->edge_calls[e]++;
}

static void prof_pop(hp_profile *p, uint64_t cycles, uint64_t insns)
{
    hp_frame f = p->frames[--p->nframes];
    prof_close(p, &f, cycles, insns, (int32_t)p->nframes);
    p->node = p->node_parent[f.node];
}

static void prof_tail(hp_profile *p, int32_t function, uint64_t cycles, uint64_t insns)
{
    if (p->nframes == 1) {
        hp_frame old = p->frames[0];
        prof_close(p, &old, cycles, insns, (int32_t)p->nframes);
        p->node = prof_node(p, -1, function);
        p->frames[0] = (hp_frame){function, -1, p->node, -1, cycles, insns};
        p->calls[function]++;
        p->active[function]++;
        return;
    }
    hp_frame f = p->frames[--p->nframes];
    prof_close(p, &f, cycles, insns, (int32_t)p->nframes);
    p->node = p->node_parent[f.node];
    prof_push(p, function, f.return_address, cycles, insns, p->frames[p->nframes - 1].function);
}

void prof_enter(hp_profile *p, int32_t function, uint64_t address, int64_t call_return,
                       uint64_t cycles, uint64_t insns)
{
    if (p->override_pending) {
        call_return = p->override_value;
        p->override_pending = 0;
    }
    hp_frame *top = &p->frames[p->nframes - 1];
    if (call_return >= 0) {
        prof_push(p, function, call_return, cycles, insns, top->function);
        return;
    }
    if (top->function == function)
        return;
    for (uint32_t depth = p->nframes - 1; depth > p->floor; depth--) {
        if (p->frames[depth].return_address == (int64_t)address) {
            while (p->nframes > depth)
                prof_pop(p, cycles, insns);
            if (p->frames[p->nframes - 1].function != function)
                prof_tail(p, function, cycles, insns);
            return;
        }
    }
    prof_tail(p, function, cycles, insns);
}

void prof_charge(hp_profile *p, int64_t cycles)
{
    if (p->enabled)
        p->node_cycles[p->node] += cycles;
}

int hp_profile_start(hp_state *s, int32_t root, uint32_t max_slices, uint32_t nfuncs)
{
    hp_profile *p = &s->prof;
    if (prof_function(p, (int32_t)nfuncs) < 0 || map_rehash(&p->edges, 1024) < 0 ||
        map_rehash(&p->nodes, 1024) < 0)
        return -1;
    p->heap = calloc(max_slices ? max_slices : 1, sizeof *p->heap);
    if (!p->heap)
        return -1;
    p->max_slices = max_slices;
    hp_column cols[] = {COLUMN(p->frames)};
    if (grow_columns(&p->frames_cap, 1, cols, 1) < 0)
        return -1;
    p->node = prof_node(p, -1, root);
    p->frames[0] = (hp_frame){root, -1, p->node, -1, 0, 0};
    p->nframes = 1;
    p->calls[root] = 1;
    p->active[root] = 1;
    p->enabled = 1;
    return 0;
}

void hp_charge(hp_state *s, int64_t cycles) { prof_charge(&s->prof, cycles); }

void hp_profile_finish(hp_state *s)
{
    hp_profile *p = &s->prof;
    while (p->nframes) {
        hp_frame f = p->frames[--p->nframes];
        prof_close(p, &f, s->cycles, s->instructions, (int32_t)p->nframes);
    }
}

/* -- exceptions: the shadow-stack operations sim/observe/exc_calls.py drives ------------- */
uint32_t hp_prof_depth(const hp_state *s) { return s->prof.nframes; }

/* A call of `function` from the top frame that no return address ends, or (root) the first
   function of a new context, called by no one. */
void hp_prof_push(hp_state *s, int32_t function, int32_t root, uint64_t cycles, uint64_t insns)
{
    hp_profile *p = &s->prof;
    if (prof_function(p, function) < 0)
        return;
    if (!root) {
        prof_push(p, function, -1, cycles, insns, p->frames[p->nframes - 1].function);
        return;
    }
    hp_column cols[] = {COLUMN(p->frames)};
    if (grow_columns(&p->frames_cap, p->nframes + 1, cols, 1) < 0)
        return;
    p->node = prof_node(p, p->node, function);
    p->frames[p->nframes++] = (hp_frame){function, -1, p->node, -1, cycles, insns};
    p->calls[function]++;
    p->active[function]++;
}

void hp_prof_pop(hp_state *s, uint64_t cycles, uint64_t insns) { prof_pop(&s->prof, cycles, insns); }

/* what: 0 floor (a frame index), 1 override the next block's call_return (-1: no call) */
void hp_prof_control(hp_state *s, int what, int64_t value)
{
    hp_profile *p = &s->prof;
    if (what == 0) {
        p->floor = (uint32_t)value;
    } else {
        p->override_pending = 1;
        p->override_value = value;
    }
}

/* Take frames[start:] off the stack into `out` without closing them (a suspended context). */
void hp_prof_detach(hp_state *s, uint32_t start, hp_frame *out)
{
    hp_profile *p = &s->prof;
    memcpy(out, p->frames + start, (p->nframes - start) * sizeof *out);
    p->nframes = start;
    p->node = start ? p->frames[start - 1].node : -1;
}

void hp_prof_attach(hp_state *s, const hp_frame *in, uint32_t n)
{
    hp_profile *p = &s->prof;
    hp_column cols[] = {COLUMN(p->frames)};
    if (grow_columns(&p->frames_cap, p->nframes + n, cols, 1) < 0)
        return;
    memcpy(p->frames + p->nframes, in, n * sizeof *in);
    p->nframes += n;
    p->node = p->nframes ? p->frames[p->nframes - 1].node : -1;
}

/* At the end: close a context still suspended, innermost first. */
void hp_prof_close_saved(hp_state *s, const hp_frame *in, uint32_t n, uint64_t cycles,
                         uint64_t insns)
{
    for (uint32_t i = n; i-- > 0;)
        prof_close(&s->prof, &in[i], cycles, insns, (int32_t)i);
}

/* Results, read by Python after the run. */
void hp_profile_function(const hp_state *s, int32_t f, uint64_t *calls, uint64_t *cycles,
                         uint64_t *insns, int32_t *has_inclusive)
{
    const hp_profile *p = &s->prof;
    *calls = p->calls[f];
    *cycles = p->incl_cycles[f];
    *insns = p->incl_insns[f];
    *has_inclusive = p->has_incl[f];
}

uint32_t hp_profile_count(const hp_state *s, int what)
{
    const hp_profile *p = &s->prof;
    return what == 0 ? p->edges.n : what == 1 ? p->nodes.n : what == 2 ? p->nheap
                     : (uint32_t)p->dropped;
}

void hp_profile_edge(const hp_state *s, uint32_t e, int32_t *caller, int32_t *callee,
                     uint64_t *calls, uint64_t *cycles, uint64_t *insns)
{
    const hp_profile *p = &s->prof;
    *caller = (int32_t)(p->edge_key[e] >> 32);
    *callee = (int32_t)(uint32_t)p->edge_key[e];
    *calls = p->edge_calls[e];
    *cycles = p->edge_cycles[e];
    *insns = p->edge_insns[e];
}

void hp_profile_nodes(const hp_state *s, int32_t *parent, int32_t *function, int64_t *cycles)
{
    const hp_profile *p = &s->prof;
    for (uint32_t n = 0; n < p->nodes.n; n++) {
        parent[n] = p->node_parent[n];
        function[n] = p->node_function[n];
        cycles[n] = p->node_cycles[n];
    }
}

void hp_profile_slices(const hp_state *s, int32_t *function, uint64_t *start, uint64_t *end,
                       int32_t *depth, uint64_t *seq)
{
    const hp_profile *p = &s->prof;
    for (uint32_t i = 0; i < p->nheap; i++) {
        const hp_slice *x = &p->heap[i];
        function[i] = x->function;
        start[i] = x->start;
        end[i] = x->end;
        depth[i] = x->depth;
        seq[i] = x->seq;
    }
}
