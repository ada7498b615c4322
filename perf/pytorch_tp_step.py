#!/usr/bin/env python3
"""PyTorch reference for bench_parallel_layers' training step: the same network
(64 -> 2048 x 4 -> 16, ReLU, batch 256, float, Adam, MSE) split as Phantom's
tp strategy over P processes on this machine: the input layer column-parallel
from the replicated input, four TP-1D hidden layers (rows of W sharded; the
sharded activation all-gathered forward, its gradient reduced back), the output
layer row-parallel with an all-reduce. torch.distributed's gloo backend, one
thread per process (as one Phantom rank per core). Gloo has no reduce-scatter,
so the backward of the all-gather is an all-reduce of the whole gradient of
which each rank keeps its block (p times the bytes; here, in shared memory, a
small part of the step).

Prints the median step time over --steps steps after --warmup. Skips (exit 0,
a note) where python3-torch is absent: apt-get install python3-torch.

  /usr/bin/python3 perf/pytorch_tp_step.py [--ranks 2] [--steps 10]

perf/compare_pytorch.sh runs it beside bench_parallel_layers.
"""
import argparse
import os
import statistics
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rank", type=int, default=-1, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=29517, help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        import torch  # noqa: F401
    except ImportError:
        print("pytorch_tp_step: python3-torch is not installed; skipped "
              "(apt-get install python3-torch)")
        return 0
    if args.rank < 0:  # the launcher: one process per rank
        import subprocess
        procs = [subprocess.Popen([sys.executable, __file__, "--ranks", str(args.ranks),
                                   "--steps", str(args.steps), "--warmup", str(args.warmup),
                                   "--rank", str(r), "--port", str(args.port)])
                 for r in range(args.ranks)]
        codes = [p.wait() for p in procs]
        return max(codes)
    return run_rank(args)


def run_rank(args):
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ["MASTER_PORT"] = str(args.port)
    dist.init_process_group("gloo", rank=args.rank, world_size=args.ranks)
    p, r = args.ranks, args.rank
    batch, input_dim, width, depth, output_dim = 256, 64, 2048, 4, 16
    m = width // p

    class Gather(torch.autograd.Function):
        """(B x m) shards -> (B x n); backward: the sum over ranks of the gradient's block r."""

        @staticmethod
        def forward(ctx, x):
            parts = [torch.empty_like(x) for _ in range(p)]
            dist.all_gather(parts, x.contiguous())
            return torch.cat(parts, dim=1)

        @staticmethod
        def backward(ctx, g):
            g = g.contiguous()
            dist.all_reduce(g)
            return g[:, r * m:(r + 1) * m].contiguous()

    class AllReduce(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x = x.clone()
            dist.all_reduce(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    torch.manual_seed(1 + r)
    w_in = torch.nn.Linear(input_dim, m)              # column-parallel: rows of W_in
    hidden = torch.nn.ModuleList(torch.nn.Linear(width, m) for _ in range(depth))
    w_out = torch.nn.Linear(m, output_dim, bias=(r == 0))  # row-parallel: columns of W_out
    params = list(w_in.parameters()) + list(hidden.parameters()) + list(w_out.parameters())
    opt = torch.optim.Adam(params, lr=1e-4)
    torch.manual_seed(5)
    x = torch.rand(batch, input_dim) * 2 - 1
    y = torch.rand(batch, output_dim) * 2 - 1

    def step():
        opt.zero_grad(set_to_none=True)
        h = torch.relu(w_in(x))
        for layer in hidden:
            h = torch.relu(layer(Gather.apply(h)))
        out = AllReduce.apply(w_out(h))
        loss = torch.nn.functional.mse_loss(out, y)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        dist.barrier()
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    mine = torch.tensor([statistics.median(times)], dtype=torch.float64)
    dist.all_reduce(mine, op=dist.ReduceOp.MAX)
    if r == 0:
        print(f"pytorch {torch.__version__} tp step, {p} ranks (gloo, 1 thread each), "
              f"64 -> {width} x {depth} -> 16, batch {batch}, Adam: "
              f"{1e3 * mine.item():.2f} ms (max over ranks of the median of {args.steps})")
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
