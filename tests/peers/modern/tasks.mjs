// The task store behind `slow_task`: the Tasks extension's state machine (io.modelcontextprotocol/tasks,
// ext-tasks specification/draft/tasks.md), with the clock passed in and every change written to an optional
// state file.
//
// A task's progress is a function of the wall clock (how long it has been working), not of a timer in this
// process. So a server restarted with the same state file picks every task up where the clock says it is: a
// task that should have finished while the server was down is `completed` at its first `tasks/get`.
//
// The store knows nothing about JSON-RPC or HTTP. Its errors carry the JSON-RPC code the extension prescribes
// (-32602 for an unknown or expired task), and server.mjs turns them into protocol errors.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

// The one input request a task can raise. Keys must be unique over a task's lifetime; a task asks once.
const PROCEED_KEY = 'proceed';
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

export class TaskError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class TaskStore {
  #tasks = new Map();
  #file;
  #ttlMs;
  #pollIntervalMs;

  /** `file` (optional) is read now and rewritten after every change. */
  constructor({ file, ttlMs, pollIntervalMs }) {
    this.#file = file;
    this.#ttlMs = ttlMs;
    this.#pollIntervalMs = pollIntervalMs;
    if (file && existsSync(file)) {
      // A corrupt state file is a broken test set-up: fail loudly rather than forget the tasks.
      for (const task of JSON.parse(readFileSync(file, 'utf8')).tasks) this.#tasks.set(task.taskId, task);
    }
  }

  get size() {
    return this.#tasks.size;
  }

  /** A new task for `slow_task {seconds, ask, fail}`, written down before it is returned (the spec's "durably
   * created"). */
  create({ seconds, ask, fail }, now) {
    const task = {
      taskId: randomUUID(), // 122 random bits: task ids may act as bearer handles, so they must not be guessable
      createdAt: now,
      lastUpdatedAt: now,
      ttlMs: this.#ttlMs,
      seconds,
      ask,
      fail,
      status: 'working',
      workedMs: 0, // work done before the current working stretch
      resumedAt: now, // when the current working stretch began; null while not working
    };
    this.#tasks.set(task.taskId, task);
    this.#save();
    return this.#detailed(task, now);
  }

  /** The task as `tasks/get` shows it (a DetailedTask). */
  get(taskId, now) {
    return this.#detailed(this.#live(taskId, now), now);
  }

  /** Applies `tasks/update`: answers to outstanding input requests move the task on; any other key is
   * ignored, as the extension asks. */
  update(taskId, inputResponses, now) {
    const task = this.#live(taskId, now);
    const answer = inputResponses?.[PROCEED_KEY];
    if (task.status !== 'input_required' || answer === undefined) return;
    const proceed = answer.action === 'accept' && answer.content?.proceed === true;
    task.answer = { action: answer.action ?? 'unknown' };
    delete task.inputRequests;
    if (proceed) {
      task.status = 'working';
      task.resumedAt = now;
      task.lastUpdatedAt = now;
    } else {
      // A refusal is the tool's answer, not a protocol fault: `completed` with isError, never `failed`.
      this.#complete(task, now, `Stopped after ${task.workedMs / 1000} s: the person chose not to continue (${task.answer.action}).`, true);
    }
    this.#save();
  }

  /** Applies `tasks/cancel`. Cancelling a finished task changes nothing: cancellation is cooperative. */
  cancel(taskId, now) {
    const task = this.#live(taskId, now);
    if (TERMINAL.has(task.status)) return;
    task.status = 'cancelled';
    task.statusMessage = 'Cancelled at the client\'s request.';
    task.resumedAt = null;
    delete task.inputRequests;
    task.lastUpdatedAt = now;
    this.#save();
  }

  /** The task after bringing it up to `now`; unknown and expired tasks are -32602, as the extension says. */
  #live(taskId, now) {
    const task = this.#tasks.get(taskId);
    if (!task) throw new TaskError(-32602, 'Failed to retrieve task: Task not found');
    if (task.ttlMs !== null && now > task.createdAt + task.ttlMs) {
      this.#tasks.delete(taskId);
      this.#save();
      throw new TaskError(-32602, 'Failed to retrieve task: Task has expired');
    }
    if (this.#advance(task, now)) this.#save();
    return task;
  }

  /** Moves a working task through whatever transitions the clock has passed; true when it changed. Each
   * transition is dated when it happened, not when somebody looked. */
  #advance(task, now) {
    if (task.status !== 'working') return false;
    const totalMs = task.seconds * 1000;
    const halfMs = Math.floor(totalMs / 2);
    const doneMs = task.workedMs + (now - task.resumedAt);
    if (task.ask && task.answer === undefined && doneMs >= halfMs) {
      task.lastUpdatedAt = task.resumedAt + (halfMs - task.workedMs);
      task.workedMs = halfMs;
      task.resumedAt = null;
      task.status = 'input_required';
      task.statusMessage = `Halfway (${halfMs / 1000} of ${task.seconds} s): waiting for the person to confirm.`;
      task.inputRequests = {
        [PROCEED_KEY]: {
          method: 'elicitation/create',
          params: {
            mode: 'form',
            message: `slow_task is halfway through ${task.seconds} s of work. Continue?`,
            requestedSchema: {
              type: 'object',
              properties: { proceed: { type: 'boolean', title: 'Continue', default: true } },
              required: ['proceed'],
            },
          },
        },
      };
      return true;
    }
    if (doneMs >= totalMs) {
      const at = task.resumedAt + (totalMs - task.workedMs);
      task.workedMs = totalMs;
      if (task.fail) {
        task.status = 'failed';
        task.statusMessage = 'Tool execution failed: slow_task was asked to fail.';
        task.error = { code: -32603, message: 'slow_task was asked to fail' };
        task.resumedAt = null;
        task.lastUpdatedAt = at;
      } else {
        const asked = task.answer ? ' The person chose to continue halfway.' : '';
        this.#complete(task, at, `Worked for ${task.seconds} s.${asked}`, false);
      }
      return true;
    }
    return false;
  }

  #complete(task, at, text, isError) {
    task.status = 'completed';
    task.statusMessage = isError ? 'Finished: the tool reported an error.' : 'Finished.';
    task.result = { content: [{ type: 'text', text }], isError };
    task.resumedAt = null;
    task.lastUpdatedAt = at;
  }

  #detailed(task, now) {
    const out = {
      taskId: task.taskId,
      status: task.status,
      statusMessage: task.statusMessage,
      createdAt: new Date(task.createdAt).toISOString(),
      lastUpdatedAt: new Date(task.lastUpdatedAt).toISOString(),
      ttlMs: task.ttlMs,
      pollIntervalMs: this.#pollIntervalMs,
    };
    if (task.status === 'working') {
      // Progress lives in statusMessage: the extension does not carry notifications/progress for tasks.
      const doneMs = Math.min(task.workedMs + (now - task.resumedAt), task.seconds * 1000);
      const percent = Math.floor((100 * doneMs) / (task.seconds * 1000));
      out.statusMessage = `Working: ${(doneMs / 1000).toFixed(1)} of ${task.seconds} s done (${percent}%).`;
    }
    if (task.status === 'input_required') out.inputRequests = task.inputRequests;
    if (task.status === 'completed') out.result = task.result;
    if (task.status === 'failed') out.error = task.error;
    return out;
  }

  /** Writes the whole store to a temporary file and renames it over the old one, so a crash never leaves a
   * half-written state file. */
  #save() {
    if (!this.#file) return;
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ tasks: [...this.#tasks.values()] }));
    renameSync(tmp, this.#file);
  }
}
