// What the peer serves on each per-request McpServer: the tools, the counter resource, a prompt and the Tasks
// extension's methods, plus a gate around the SDK's tools/call handler.
//
// The gate exists because McpServer reports every error a tool throws as an `isError` tool result. The
// refusals the spec makes JSON-RPC errors (a requestState issued for another call, answers without their
// requestState, a capability the request did not declare) therefore happen around the SDK's handler, before a
// tool runs. The SDK itself already refuses a forged or expired requestState (-32602) and input requests the
// request has no capability for (-32021).

import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  inputRequired,
} from '@modelcontextprotocol/server';
import * as z from 'zod';

import { TASKS_EXTENSION, TaskError } from './tasks.mjs';
import { HOSTILE_APP_HTML, HOSTILE_APP_URI } from './hostile-app.mjs';

export const COUNTER_URI = 'note://counter';
const CAPABILITIES_KEY = 'io.modelcontextprotocol/clientCapabilities';

/** Input schemas, shared by the tools, the gate and the CORS header list. */
export const SCHEMAS = {
  echo: z.object({ text: z.string().describe('Text to echo') }),
  confirm_delete: z.object({ path: z.string().describe('What to delete (nothing is deleted)') }),
  open_login: z.object({}),
  ask_model: z.object({ question: z.string().describe('What to ask the client\'s model') }),
  two_rounds: z.object({}),
  endless: z.object({}),
  slow_task: z.object({
    seconds: z.number().int().min(1).max(600).default(5).describe('How long the work takes'),
    ask: z.boolean().default(false).describe('Stop halfway and ask the person whether to continue (needs a task)'),
    fail: z.boolean().default(false).describe('End with a JSON-RPC error (task status failed)'),
  }),
  regional_lookup: z.object({
    region: z.string().describe('Region, mirrored into the Mcp-Param-Region header').meta({ 'x-mcp-header': 'Region' }),
    id: z.number().int().describe('Record id'),
  }),
  bump: z.object({}),
  erase_note: z.object({ note: z.string().describe('Which note to erase (nothing is erased)') }),
  count_words: z.object({ text: z.string().describe('Text whose words are counted') }),
  toggle_extra_tool: z.object({}),
  extra_tool: z.object({}),
};

/** Every `Mcp-Param-{Name}` header the tools can ask for: `x-mcp-header` names reached through `properties`
 * only, the one place the spec allows them. */
export function paramHeaders() {
  const names = new Set();
  const walk = (schema) => {
    for (const property of Object.values(schema.properties ?? {})) {
      if (typeof property['x-mcp-header'] === 'string') names.add(`Mcp-Param-${property['x-mcp-header']}`);
      walk(property);
    }
  };
  for (const schema of Object.values(SCHEMAS)) walk(z.toJSONSchema(schema));
  return [...names].sort();
}

const text = (t, isError = false) => ({ content: [{ type: 'text', text: t }], ...(isError ? { isError } : {}) });
const invalidParams = (message) => new ProtocolError(ProtocolErrorCode.InvalidParams, message);
const accepted = (answer) => (answer.action === 'accept' ? answer.content ?? {} : undefined);
const capabilitiesOf = (ctx) => ctx.mcpReq.envelope?.[CAPABILITIES_KEY] ?? {};
const declaresTasks = (caps) => caps?.extensions?.[TASKS_EXTENSION] !== undefined;
const needsTasks = () => new MissingRequiredClientCapabilityError({ requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } });

/** Form elicitation is what a bare `elicitation: {}` means; `{url: {}}` alone does not include it. */
function declaresFormElicitation(caps) {
  const e = caps?.elicitation;
  return e !== undefined && (e.form !== undefined || e.url === undefined);
}

/** A digest of the arguments as the tool sees them, so that state issued for one call is refused on another.
 * Keys are sorted: a client may re-serialize the arguments in another order. */
function digest(args) {
  const canonical = JSON.stringify(Object.keys(args ?? {}).sort().map((k) => [k, args[k]]));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

/**
 * Registers everything on `mcp`. `peer` holds what outlives one request: `requestStates` (the HMAC codec),
 * `tasks` (the TaskStore), `state` ({counter, extraTool}), `notify` (the listen bus), `loginPageUrl()` and
 * `loginPageVisits()`.
 */
export function registerFeatures(mcp, peer) {
  const seal = (ctx, tool, args, round, expects, extra = {}) => peer.requestStates.mint({ tool, args: digest(args), round, expects, ...extra }, ctx);
  // By the time a tool runs, the gate has checked that the state is this call's and that every input it asked
  // for was answered; the SDK has verified the seal and put the decoded state here.
  const roundOf = (ctx) => ctx.mcpReq.requestState();
  const answerTo = (ctx, key) => ctx.mcpReq.inputResponses[key];
  const tool = (name, description, cb, annotations = {}) => mcp.registerTool(name, { description, inputSchema: SCHEMAS[name], annotations }, cb);

  tool('echo', 'Echoes the text back.', ({ text: t }) => text(t), { readOnlyHint: true });

  // Declares itself destructive: a client should ask before running it.
  tool('erase_note', 'Pretends to erase a note (declared destructive).', ({ note }) => text(`Erased ${note} (pretend).`),
    { destructiveHint: true, idempotentHint: true });

  // Declares an output schema its results break (the count comes as words): the SDK would refuse to send
  // such a result, so its check is skipped for this tool alone.
  mcp.registerTool('count_words', {
    description: 'Counts words, but reports the count in words (breaks its own output schema).',
    inputSchema: SCHEMAS.count_words,
    outputSchema: z.object({ count: z.number().int(), words: z.array(z.string()) }),
    annotations: { readOnlyHint: true },
  }, ({ text: t }) => {
    const words = t.split(/\s+/).filter(Boolean);
    return { content: [{ type: 'text', text: `${words.length} words` }], structuredContent: { count: `${words.length} words` } };
  });
  const checkOutput = mcp.validateToolOutput.bind(mcp);
  mcp.validateToolOutput = async (tool, result, name) => (name === 'count_words' ? undefined : checkOutput(tool, result, name));

  tool('confirm_delete', 'Asks (form elicitation: confirm, retries) before pretending to delete.', async (args, ctx) => {
    if (!roundOf(ctx)) {
      return inputRequired({
        inputRequests: {
          confirm: inputRequired.elicit({
            message: `Really delete ${args.path}?`,
            requestedSchema: {
              type: 'object',
              properties: {
                confirm: { type: 'boolean', title: 'Delete it', description: `Delete ${args.path}` },
                retries: { type: 'integer', title: 'Retries', description: 'How often to retry if it is busy', minimum: 0, maximum: 5 },
              },
              required: ['confirm'],
            },
          }),
        },
        requestState: await seal(ctx, 'confirm_delete', args, 1, ['confirm']),
      });
    }
    const answer = answerTo(ctx, 'confirm');
    const content = accepted(answer);
    if (!content) return text(`Kept ${args.path}: the person answered ${answer.action}.`);
    const retries = content.retries ?? 'not given';
    return text(content.confirm === true
      ? `Deleted ${args.path} (pretend): confirm=true, retries=${retries}.`
      : `Kept ${args.path}: confirm=${content.confirm}, retries=${retries}.`);
  });

  tool('open_login', 'Asks the person to open a sign-in page (URL elicitation).', async (args, ctx) => {
    const url = peer.loginPageUrl();
    if (!roundOf(ctx)) {
      return inputRequired({
        inputRequests: { login: inputRequired.elicitUrl({ message: 'Sign in to the test service to continue.', url }) },
        requestState: await seal(ctx, 'open_login', args, 1, ['login']),
      });
    }
    const answer = answerTo(ctx, 'login');
    if (answer.action !== 'accept') return text(`Not signed in: the person answered ${answer.action} to opening ${url}.`);
    // Accept means the person agreed to open the page, not that they finished there (2026-07-28 URL mode).
    return text(`Signed in: the person accepted opening ${url} (the page has been visited ${peer.loginPageVisits()} times).`);
  });

  tool('ask_model', 'Asks the client\'s model a question (sampling) and quotes the answer.', async (args, ctx) => {
    if (!roundOf(ctx)) {
      return inputRequired({
        inputRequests: {
          answer: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: args.question } }],
            maxTokens: 200,
          }),
        },
        requestState: await seal(ctx, 'ask_model', args, 1, ['answer']),
      });
    }
    const answer = answerTo(ctx, 'answer');
    const blocks = Array.isArray(answer.content) ? answer.content : [answer.content];
    const said = blocks.filter((b) => b?.type === 'text').map((b) => b.text).join(' ');
    return text(`The model ${answer.model ?? '(unnamed)'} answered: "${said}"`);
  });

  tool('two_rounds', 'Asks two questions, the second built from the first answer.', async (args, ctx) => {
    const round = roundOf(ctx);
    if (!round) {
      return inputRequired({
        inputRequests: {
          name: inputRequired.elicit({
            message: 'Round 1 of 2: what is your name?',
            requestedSchema: { type: 'object', properties: { name: { type: 'string', title: 'Name' } }, required: ['name'] },
          }),
        },
        requestState: await seal(ctx, 'two_rounds', args, 1, ['name']),
      });
    }
    if (round.round === 1) {
      const name = accepted(answerTo(ctx, 'name'))?.name;
      if (typeof name !== 'string') return text('Stopped after round 1: no name was given.');
      // The second question depends on the first answer, which travels in the sealed state, not in the client.
      return inputRequired({
        inputRequests: {
          colour: inputRequired.elicit({
            message: `Round 2 of 2: ${name}, what is your favourite colour?`,
            requestedSchema: {
              type: 'object',
              properties: { colour: { type: 'string', title: 'Colour', enum: ['red', 'green', 'blue'] } },
              required: ['colour'],
            },
          }),
        },
        requestState: await seal(ctx, 'two_rounds', args, 2, ['colour'], { name }),
      });
    }
    const colour = accepted(answerTo(ctx, 'colour'))?.colour;
    if (typeof colour !== 'string') return text(`Stopped after round 2: ${round.name} gave no colour.`);
    return text(`${round.name} likes ${colour} (two rounds).`);
  });

  tool('endless', 'Asks for input forever; a client must give up after a bound.', async (args, ctx) => {
    const next = (roundOf(ctx)?.round ?? 0) + 1;
    const key = `round_${next}`; // keys are never reused within the request
    return inputRequired({
      inputRequests: {
        [key]: inputRequired.elicit({
          message: `Round ${next}: this tool never finishes; the client has to stop asking.`,
          requestedSchema: { type: 'object', properties: { again: { type: 'boolean', title: 'Again' } } },
        }),
      },
      requestState: await seal(ctx, 'endless', args, next, [key]),
    });
  });

  tool('slow_task', 'Works for `seconds`; a task when the request declares the Tasks extension.', async (args, ctx) => {
    if (declaresTasks(capabilitiesOf(ctx))) return { resultType: 'task', ...peer.tasks.create(args, Date.now()) };
    // Without a task the work is done in place (the extension allows it), with progress on this request's stream.
    const progressToken = ctx.mcpReq._meta?.progressToken;
    for (let s = 1; s <= args.seconds; s += 1) {
      await sleep(1000, undefined, { signal: ctx.mcpReq.signal }); // the client closing the stream cancels
      if (progressToken !== undefined) {
        await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress: s, total: args.seconds } });
      }
    }
    if (args.fail) return text('slow_task was asked to fail', true);
    return text(`Worked for ${args.seconds} s (no task: the request did not declare ${TASKS_EXTENSION}).`);
  });

  tool('regional_lookup', 'Looks a record up by region; the region travels in the Mcp-Param-Region header.', ({ region, id }, ctx) => {
    // The SDK has already checked that the header matches the body (decoding a =?base64?…?= value first).
    const seen = ctx.http?.req?.headers.get('mcp-param-region');
    return text(`Record ${id} in ${region}; Mcp-Param-Region header: ${JSON.stringify(seen)}.`);
  }, { readOnlyHint: true });

  tool('bump', `Adds one to the counter at ${COUNTER_URI}.`, () => {
    peer.state.counter += 1;
    peer.notify.resourceUpdated(COUNTER_URI);
    return text(`The counter is now ${peer.state.counter}.`);
  });

  tool('toggle_extra_tool', 'Adds or removes the tool extra_tool.', () => {
    peer.state.extraTool = !peer.state.extraTool;
    peer.notify.toolsChanged();
    return text(`extra_tool is now ${peer.state.extraTool ? 'listed' : 'gone'}.`);
  });

  if (peer.state.extraTool) tool('extra_tool', 'Exists only while toggled on.', () => text('extra_tool is here.'), { readOnlyHint: true });

  mcp.registerResource('counter', COUNTER_URI, {
    title: 'Counter',
    description: 'A number that bump increases.',
    mimeType: 'text/plain',
    cacheHint: { ttlMs: 0, cacheScope: 'private' }, // it changes whenever bump is called
  }, async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: `The counter is ${peer.state.counter}.` }] }));

  // An MCP App that attacks the console showing it (see hostile-app.mjs).
  mcp.registerTool('hostile_app', {
    description: 'Shows an app that tries to break out of its sandbox.',
    inputSchema: z.object({}),
    annotations: { readOnlyHint: true },
    _meta: { ui: { resourceUri: HOSTILE_APP_URI } },
  }, () => text('The hostile app is shown.'));
  mcp.registerResource('hostile-app', HOSTILE_APP_URI, {
    description: 'The hostile app\'s HTML.',
    mimeType: 'text/html;profile=mcp-app',
  }, async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/html;profile=mcp-app', text: HOSTILE_APP_HTML }] }));

  mcp.registerPrompt('greet', {
    description: 'Greets someone.',
    argsSchema: z.object({ name: z.string().describe('Who to greet') }),
  }, ({ name }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Please greet ${name} warmly.` } }] }));

  registerTaskMethods(mcp.server, peer.tasks);
  guardToolCalls(mcp.server, peer.requestStates);
}

/** tasks/get, tasks/update and tasks/cancel of the Tasks extension, which the SDK does not implement. Each must
 * come from a request that declares the extension (-32021 otherwise) and answers with resultType complete. */
function registerTaskMethods(server, tasks) {
  const method = (name, run) => server.setRequestHandler(name, { params: z.looseObject({ taskId: z.string().min(1) }) }, async (params, ctx) => {
    if (!declaresTasks(capabilitiesOf(ctx))) throw needsTasks();
    try {
      return run(params.taskId, ctx, Date.now());
    } catch (err) {
      if (err instanceof TaskError) throw new ProtocolError(err.code, err.message);
      throw err;
    }
  });
  method('tasks/get', (taskId, _ctx, now) => tasks.get(taskId, now));
  method('tasks/update', (taskId, ctx, now) => {
    // The SDK lifts inputResponses out of the params into the context, as it does for a retried tools/call.
    tasks.update(taskId, ctx.mcpReq.inputResponses ?? {}, now);
    return {};
  });
  method('tasks/cancel', (taskId, _ctx, now) => {
    tasks.cancel(taskId, now);
    return {};
  });
}

/** Wraps the SDK's tools/call handler (there is no public seam; protected-server.mjs wraps tools/list the same
 * way) with the JSON-RPC-level checks, and flattens a task result. */
function guardToolCalls(server, requestStates) {
  const handlers = server._requestHandlers;
  const callTool = handlers.get('tools/call');
  handlers.set('tools/call', async (request, ctx) => {
    await checkRetry(request.params, ctx, requestStates);
    checkTaskPreconditions(request.params, ctx);
    const result = await callTool(request, ctx);
    // The SDK validates every tools/call result as a CallToolResult and so adds `content: []` to a task. The
    // extension's CreateTaskResult is `Result & Task`, flat, with nothing else.
    if (result?.resultType !== 'task') return result;
    const { content: _added, ...task } = result;
    return task;
  });
}

/** A retry must carry the requestState this server issued for this very call, and answer every input request
 * that state names. The seal itself (MAC, expiry, person) is the SDK's to check, and it answers -32602. */
async function checkRetry({ name, arguments: args }, ctx, requestStates) {
  const sealed = ctx.mcpReq.requestState(); // still the wire string: the SDK verifies it further in
  const answers = ctx.mcpReq.inputResponses;
  if (sealed === undefined) {
    // Every input_required result here carries a requestState, so answers without one mean the client dropped it.
    if (answers !== undefined) throw invalidParams('inputResponses came without the requestState this server issued; echo it exactly');
    return;
  }
  let state;
  try {
    state = await requestStates.verify(sealed, ctx);
  } catch {
    return; // forged or expired: left to the SDK's own refusal
  }
  const parsed = SCHEMAS[name]?.safeParse(args ?? {});
  if (!parsed?.success) return; // bad arguments: left to the SDK's own validation
  if (state.tool !== name || state.args !== digest(parsed.data)) throw invalidParams('requestState was issued for a different request');
  const missing = state.expects.filter((key) => answers?.[key] === undefined);
  if (missing.length > 0) throw invalidParams(`inputResponses lacks an answer to ${missing.join(', ')}`);
}

/** slow_task's halfway question exists only inside a task, and is an elicitation: both capabilities are needed
 * when it is asked for, and a request without them is told so (-32021) rather than given a task it cannot
 * finish. */
function checkTaskPreconditions({ name, arguments: args }, ctx) {
  if (name !== 'slow_task' || args?.ask !== true) return;
  const caps = capabilitiesOf(ctx);
  if (!declaresTasks(caps)) throw needsTasks();
  if (!declaresFormElicitation(caps)) throw new MissingRequiredClientCapabilityError({ requiredCapabilities: { elicitation: { form: {} } } });
}
