// Child processes on txiki.js: run with captured output and a timeout, or spawn detached.
import type { Processes, ProcessResult, Spawned } from './types.ts';
import {
  tjs, TextDecoder, noop, errMessage,
  type ProcessStatus, type Reader, type ReadableStream, type TjsProcess,
} from './txiki-runtime.ts';
import { monoTimer } from './txiki-clock.ts';

/** Node reports a null exit code for a signal death, which the node adapter turns into 1. */
const exitCode = (s: ProcessStatus) => (s.term_signal ? 1 : s.exit_status);

export const txikiProc: Processes = {
  run(argv, opts = {}) {
    return new Promise<ProcessResult>((resolve) => {
      let p: TjsProcess;
      try {
        p = tjs.spawn(argv, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
      } catch (e) {
        resolve({ code: 127, stdout: '', stderr: `${argv[0]}: ${errMessage(e)}` });
        return;
      }
      let stdout = '';
      let stderr = '';
      let done = false;
      let open = 2; // stdout and stderr not yet at EOF
      let status: ProcessStatus | null = null;
      const readers: (Reader<Uint8Array> | null)[] = [];
      const finish = (r: ProcessResult) => {
        if (done) return;
        done = true;
        timer.cancel();
        for (const rd of readers) rd?.cancel().catch(noop);
        resolve(r);
      };
      const maybeDone = () => { if (status && open === 0) finish({ code: exitCode(status), stdout, stderr }); };
      const timer = monoTimer(opts.timeoutMs ?? 15000, () => {
        try { p.kill('SIGKILL'); } catch { /* already gone */ }
        finish({ code: 124, stdout, stderr: stderr + `\n${argv[0]}: timed out` });
      }, false);
      const track = (stream: ReadableStream<Uint8Array> | null, add: (s: string) => void) => {
        if (!stream) { open--; return; }
        const reader = stream.getReader();
        readers.push(reader);
        const dec = new TextDecoder();
        void (async () => {
          try {
            for (;;) {
              const { done: eof, value } = await reader.read();
              if (eof || !value) break;
              add(dec.decode(value, { stream: true }));
            }
          } catch { /* pipe error: treat as end */ }
          add(dec.decode());
          open--;
          maybeDone();
        })();
      };
      track(p.stdout, (s) => { stdout += s; });
      track(p.stderr, (s) => { stderr += s; });
      p.wait().then((s) => { status = s; maybeDone(); }, () => { status = { exit_status: 1, term_signal: null }; maybeDone(); });
    });
  },
  spawn(argv): Spawned {
    let p: TjsProcess;
    try {
      p = tjs.spawn(argv, { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
    } catch {
      return { pid: -1, wait: () => Promise.resolve(127), kill: noop };
    }
    const exited = p.wait().then(exitCode, () => 1);
    return {
      pid: p.pid,
      wait: () => exited,
      kill: (sig = 'SIGTERM') => { try { p.kill(sig); } catch { /* already exited */ } },
    };
  },
};
