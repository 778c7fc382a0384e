import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";

/**
 * Where CWL JavaScript runs: a worker thread with a heap of its own, limited
 * (ORRERY_CWL_EXPRESSION_MEMORY_MB), so an expression that allocates without end stops that worker,
 * not the server. The engine evaluates synchronously (the CWL evaluation order is synchronous code
 * all through the engine), so a call posts the request, then blocks on a shared word until the
 * worker answers: `Atomics.wait`, then `receiveMessageOnPort`.
 *
 * A worker that runs out of memory ends without running any more JavaScript, so it cannot say so;
 * its parent can. The expression worker is therefore started by a small supervisor thread whose
 * event loop is free: on the worker's exit it marks the shared word and wakes the server. The next
 * call starts a new pair. Each loaded expressionLib has a context of its own in the worker; a new
 * worker builds them again when asked for them (the answer `missing`).
 */

/** The heap an expression worker may use (ORRERY_CWL_EXPRESSION_MEMORY_MB overrides). */
export const expressionMemoryMb = Math.max(16, Number(process.env.ORRERY_CWL_EXPRESSION_MEMORY_MB) || 512);

/** One evaluation: a library (by id; its code when the worker asks for it), a body and its inputs. */
interface EvaluateRequest {
	op: "evaluate";
	lib: number;
	libCode?: readonly string[];
	/** Code of a function body: `return …;` for `$(…)`, the text of `${…}`. */
	body: string;
	/** inputs, self and runtime as JSON text: only strings enter the sandbox. */
	json: [string, string, string];
	timeoutMs: number;
}

/** A library's context is no longer needed (its document is gone). */
interface DropRequest {
	op: "drop";
	lib: number;
}

/** What the worker answers. */
export type SandboxAnswer =
	| { value: string }
	| { error: string }
	| { timeout: true }
	| { syntax: string }
	| { libError: string }
	| { missing: true }
	| { memory: true }
	| { stopped: true };

// The shared words: STATE says whether an answer is there (or that the worker ended: 2, or ran out of
// memory: 3); REQUEST counts requests, the worker waits on it. The thread functions below write
// these by number: they cannot see these names.
const STATE = 0;
const REQUEST = 1;
/** Set by the worker when it is ready: the time limit of the first request counts from then. */
const READY = 2;
/** How long a new worker may take to start. */
const startMs = 10_000;
const WAITING = 0;
const ANSWERED = 1;
const OUT_OF_MEMORY = 3;

/**
 * How long the server spins on the shared word before it sleeps on it, and the worker after an
 * answer: the engine evaluates expressions in bursts (a command line, a scatter's jobs), and waking a
 * sleeping thread costs tens of microseconds, more than most expressions.
 */
const spinMs = 0.05;

interface Generation {
	supervisor: Worker;
	port: MessagePort;
	signal: Int32Array;
}

let current: Generation | undefined;

/** Ids of loaded libraries: each loaded expressionLib list (an empty one too) is its own context. */
const libIds = new WeakMap<readonly string[], number>();
let nextLibId = 1;
const released = new FinalizationRegistry<number>((lib) => {
	current?.port.postMessage({ op: "drop", lib } satisfies DropRequest);
});

function libIdOf(lib: readonly string[]): number {
	let id = libIds.get(lib);
	if (id === undefined) {
		id = nextLibId++;
		libIds.set(lib, id);
		released.register(lib, id);
	}
	return id;
}

/** Runs `body` in the context of `lib`; synchronous. */
export function runInSandbox(
	lib: readonly string[],
	body: string,
	json: [string, string, string],
	timeoutMs: number,
): SandboxAnswer {
	const request: EvaluateRequest = { op: "evaluate", lib: libIdOf(lib), body, json, timeoutMs };
	let answer = call(request);
	if ("missing" in answer) answer = call({ ...request, libCode: lib });
	return answer;
}

function call(request: EvaluateRequest): SandboxAnswer {
	let generation = current ?? start();
	// A worker that died since the last call (its supervisor marked it) is replaced first.
	if (Atomics.compareExchange(generation.signal, STATE, ANSWERED, WAITING) > ANSWERED) {
		stop(generation);
		generation = start();
	}
	const { signal, port } = generation;
	if (Atomics.load(signal, READY) === 0) Atomics.wait(signal, READY, 0, startMs);
	if (Atomics.load(signal, READY) === 0) {
		// Not started in time, or ended while starting (its supervisor wakes us then too).
		stop(generation);
		return { stopped: true };
	}
	Atomics.store(signal, STATE, WAITING);
	port.postMessage(request);
	Atomics.add(signal, REQUEST, 1);
	Atomics.notify(signal, REQUEST);
	// The time limit is kept here: past it the worker is ended, whatever it runs (a loop, its
	// microtasks, a getter), which also spares each evaluation node:vm's own watchdog thread.
	const started = performance.now();
	const deadline = started + request.timeoutMs * (request.libCode ? 2 : 1);
	while (Atomics.load(signal, STATE) === WAITING && performance.now() - started < spinMs) {
		// spin: the answer to a short expression comes sooner than a sleeping thread wakes
	}
	for (;;) {
		const left = deadline - performance.now();
		if (left <= 0 || Atomics.wait(signal, STATE, WAITING, left) === "timed-out") {
			stop(generation);
			return { timeout: true };
		}
		const state = Atomics.load(signal, STATE);
		if (state === WAITING) continue;
		if (state !== ANSWERED) {
			stop(generation);
			return state === OUT_OF_MEMORY ? { memory: true } : { stopped: true };
		}
		const received = receiveMessageOnPort(port);
		if (!received) {
			stop(generation);
			return { stopped: true };
		}
		return received.message as SandboxAnswer;
	}
}

function start(): Generation {
	const signal = new Int32Array(new SharedArrayBuffer(12));
	const { port1, port2 } = new MessageChannel();
	const supervisor = new Worker(`(${supervise.toString()})(require)`, {
		eval: true,
		name: "orrery-cwl-expressions-supervisor",
		workerData: {
			signal: signal.buffer,
			port: port2,
			worker: `(${serve.toString()})(require)`,
			memoryMb: expressionMemoryMb,
		},
		transferList: [port2],
	});
	supervisor.unref();
	port1.unref();
	supervisor.on("error", () => {});
	current = { supervisor, port: port1, signal };
	return current;
}

function stop(generation: Generation): void {
	if (current === generation) current = undefined;
	generation.port.close();
	void generation.supervisor.terminate().catch(() => {});
}

/**
 * The supervisor thread: starts the expression worker with its memory limit and, when the worker
 * ends, marks the shared word and wakes the server. Runs from its source text: it may use nothing
 * from this module's scope.
 */
function supervise(load: NodeJS.Require): void {
	const { Worker, workerData } = load("node:worker_threads") as typeof import("node:worker_threads");
	const signal = new Int32Array(workerData.signal as SharedArrayBuffer);
	const memoryMb = workerData.memoryMb as number;
	let outOfMemory = false;
	const worker = new Worker(workerData.worker as string, {
		eval: true,
		name: "orrery-cwl-expressions",
		workerData: { signal: workerData.signal, port: workerData.port },
		transferList: [workerData.port],
		resourceLimits: {
			maxOldGenerationSizeMb: memoryMb,
			maxYoungGenerationSizeMb: Math.max(4, Math.min(64, Math.floor(memoryMb / 8))),
			stackSizeMb: 4,
		},
	});
	worker.on("error", (error: Error & { code?: string }) => {
		if (error.code === "ERR_WORKER_OUT_OF_MEMORY") outOfMemory = true;
	});
	worker.on("exit", () => {
		Atomics.store(signal, 0, outOfMemory ? 3 : 2);
		Atomics.notify(signal, 0);
		Atomics.notify(signal, 2);
	});
}

/**
 * The expression worker: waits for requests on the shared word, answers each on the port. Each
 * library has a context; only strings go in and out. Runs from its source text.
 */
function serve(load: NodeJS.Require): void {
	const { workerData, receiveMessageOnPort } = load("node:worker_threads") as typeof import("node:worker_threads");
	const { createContext, Script } = load("node:vm") as typeof import("node:vm");
	const signal = new Int32Array(workerData.signal as SharedArrayBuffer);
	const port = workerData.port as MessagePort;
	const contexts = new Map<number, object>();
	const compiled = new Map<string, InstanceType<typeof Script>>();
	const describe = new Script(
		'(function(e){try{return String(e&&e.name||"Error")+": "+String(e&&e.message);}catch(x){return "Error";}})(__orrery_error)',
	);

	function timedOut(error: unknown): boolean {
		// Only an own data property is read: what the sandbox threw may be a getter or a proxy.
		if (typeof error !== "object" || error === null) return false;
		try {
			const d = Object.getOwnPropertyDescriptor(error, "code");
			return d !== undefined && "value" in d && d.value === "ERR_SCRIPT_EXECUTION_TIMEOUT";
		} catch {
			return false;
		}
	}

	/** Describes what the sandbox threw, in the sandbox, under a time limit: its getters run there. */
	function reasonOf(error: unknown, context: object): string {
		const ctx = context as Record<string, unknown>;
		ctx.__orrery_error = error;
		try {
			const text = describe.runInContext(context, { timeout: 1000, displayErrors: false });
			return typeof text === "string" ? text.slice(0, 500) : "Error";
		} catch {
			return "an error that could not be described";
		} finally {
			ctx.__orrery_error = undefined;
		}
	}

	function contextFor(request: { lib: number; libCode?: readonly string[]; timeoutMs: number }) {
		const known = contexts.get(request.lib);
		if (known) return { context: known };
		if (!request.libCode) return { answer: { missing: true } };
		// Microtasks run within the evaluation and its time limit. The names written from outside
		// are plain data that code in there cannot turn into setters.
		const global = Object.create(null) as object;
		for (const name of ["__orrery_in0", "__orrery_in1", "__orrery_in2", "__orrery_error"])
			Object.defineProperty(global, name, { value: undefined, writable: true, configurable: false, enumerable: false });
		const context = createContext(global, {
			codeGeneration: { strings: false, wasm: false },
			microtaskMode: "afterEvaluate",
		});
		for (const code of request.libCode) {
			try {
				new Script(code).runInContext(context, { timeout: request.timeoutMs, displayErrors: false });
			} catch (error) {
				return { answer: { libError: timedOut(error) ? "timeout" : reasonOf(error, context) } };
			}
		}
		if (contexts.size >= 1000) contexts.delete(contexts.keys().next().value as number);
		contexts.set(request.lib, context);
		return { context };
	}

	function evaluate(request: {
		lib: number;
		libCode?: readonly string[];
		body: string;
		json: [string, string, string];
		timeoutMs: number;
	}): unknown {
		const found = contextFor(request);
		if (!found.context) return found.answer;
		const context = found.context;
		let script = compiled.get(request.body);
		if (!script) {
			const source = `(function(){var inputs=JSON.parse(__orrery_in0),self=JSON.parse(__orrery_in1),runtime=JSON.parse(__orrery_in2);var __r=(function(){${request.body}\n})();return JSON.stringify([__r===undefined?null:__r]);})()`;
			try {
				script = new Script(source);
			} catch (error) {
				return { syntax: String((error as Error).message) };
			}
			if (compiled.size > 2000) compiled.clear();
			compiled.set(request.body, script);
		}
		const ctx = context as Record<string, unknown>;
		ctx.__orrery_in0 = request.json[0];
		ctx.__orrery_in1 = request.json[1];
		ctx.__orrery_in2 = request.json[2];
		try {
			// No time limit of node:vm's here: the server ends this worker when the time is up.
			const result = script.runInContext(context, { displayErrors: false });
			return { value: typeof result === "string" ? result : "[null]" };
		} catch (error) {
			return timedOut(error) ? { timeout: true } : { error: reasonOf(error, context) };
		} finally {
			ctx.__orrery_in0 = undefined;
			ctx.__orrery_in1 = undefined;
			ctx.__orrery_in2 = undefined;
		}
	}

	Atomics.store(signal, 2, 1);
	Atomics.notify(signal, 2);
	let seen = 0;
	for (;;) {
		// Spin a little before sleeping: the next request of a burst comes sooner than a wake-up.
		const idle = performance.now();
		while (Atomics.load(signal, 1) === seen && performance.now() - idle < 0.2) {
			// spin
		}
		Atomics.wait(signal, 1, seen);
		seen = Atomics.load(signal, 1);
		for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
			const request = m.message as { op: string; lib: number };
			if (request.op === "drop") {
				contexts.delete(request.lib);
				continue;
			}
			port.postMessage(evaluate(request as unknown as Parameters<typeof evaluate>[0]));
			Atomics.store(signal, 0, 1);
			Atomics.notify(signal, 0);
		}
	}
}
