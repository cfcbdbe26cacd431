// openai_check.cjs: the official `openai` npm client (installed into
// build/npm by tests/llmserve/hosted.sh) against mneme's OpenAI-compatible
// server, plus raw HTTP for what a client library never sends. TAP lines.
//
//   node openai_check.cjs BASE_URL MODEL EXPECTED_FILE
//
// EXPECTED_FILE holds the greedy answer mneme-infer --chat gives to
// "Once upon a time" (16 tokens): the server must give the same text,
// streamed and not.
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');
const OpenAI = require(path.resolve(process.env.OPENAI_DIR || 'build/npm/node_modules/openai'));

const [base, model, expectedFile] = process.argv.slice(2);
const expected = fs.readFileSync(expectedFile, 'utf8');
const url = new URL(base);
const client = new OpenAI({ baseURL: base + '/v1', apiKey: 'none', maxRetries: 0, timeout: 300000 });
let n = 0, failed = 0;
function ok(cond, what, detail) {
  n++;
  if (cond) console.log(`ok ${n} - ${what}`);
  else {
    failed++;
    console.log(`not ok ${n} - ${what}`);
    if (detail !== undefined) console.log('#   ' + String(detail).split('\n').join('\n#   '));
  }
}
const prompt = [{ role: 'user', content: 'Once upon a time' }];

// Raw bytes on a new connection; resolves with everything the server sent
// before it closed (or after `wait` ms of silence once something came).
function raw(bytes, wait = 3000) {
  return new Promise((resolve) => {
    const s = net.connect(Number(url.port), url.hostname);
    let got = Buffer.alloc(0), timer = null;
    const done = () => { s.destroy(); resolve(got.toString('latin1')); };
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      clearTimeout(timer);
      timer = setTimeout(done, wait);
    });
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => s.write(bytes));
    setTimeout(done, 60000);
  });
}

async function health() {
  const r = await fetch(base + '/health');
  return [r.status, await r.json()];
}

async function main() {
  // models
  const models = await client.models.list();
  const ids = models.data.map((m) => m.id);
  ok(ids.length === 1 && ids[0] === model, 'GET /v1/models lists the loaded model', JSON.stringify(ids));

  // not streamed
  const c = await client.chat.completions.create({ model, messages: prompt, max_tokens: 16, temperature: 0 });
  const text = c.choices[0].message.content;
  ok(text === expected, 'chat.completions (not streamed): greedy text equals mneme-infer --chat',
     JSON.stringify(text) + ' vs ' + JSON.stringify(expected));
  ok(c.object === 'chat.completion' && c.choices[0].message.role === 'assistant' &&
     c.choices[0].finish_reason === 'length' && c.usage.completion_tokens === 16 &&
     c.usage.prompt_tokens > 0 && c.usage.total_tokens === c.usage.prompt_tokens + 16,
     'answer: finish_reason length, usage counts', JSON.stringify(c));
  ok(Math.abs(c.created - Date.now() / 1000) < 86400 && Math.abs(models.data[0].created - Date.now() / 1000) < 86400,
     'created: the wall clock (Unix seconds, within a day of the host\'s)', `${c.created} ${models.data[0].created}`);

  // streamed, with usage
  const s = await client.chat.completions.create({ model, messages: prompt, max_tokens: 16, temperature: 0,
                                                   stream: true, stream_options: { include_usage: true } });
  let st = '', finish = null, usage = null, chunks = 0, role = null;
  for await (const ch of s) {
    chunks++;
    if (ch.usage) usage = ch.usage;
    if (!ch.choices.length) continue;
    const d = ch.choices[0].delta;
    if (d.role) role = d.role;
    if (d.content) st += d.content;
    if (ch.choices[0].finish_reason) finish = ch.choices[0].finish_reason;
  }
  ok(st === expected, 'chat.completions (streamed): the deltas join to the same text',
     JSON.stringify(st));
  ok(role === 'assistant' && finish === 'length' && usage && usage.completion_tokens === 16 && chunks > 3,
     'stream: role first, finish_reason, a usage chunk', JSON.stringify({ role, finish, usage, chunks }));

  // a stop: the model ends its turn before max_tokens (or is cut there)
  const long = await client.chat.completions.create({ model, messages: [{ role: 'system', content: 'You tell stories.' },
    { role: 'user', content: 'Tell me about a cat.' }], max_tokens: 64, temperature: 0.8, seed: 7 });
  ok(['stop', 'length'].includes(long.choices[0].finish_reason) && long.usage.completion_tokens <= 64,
     'sampled answer with a system message and a seed', JSON.stringify(long.choices[0]));
  const again = await client.chat.completions.create({ model, messages: [{ role: 'system', content: 'You tell stories.' },
    { role: 'user', content: 'Tell me about a cat.' }], max_tokens: 64, temperature: 0.8, seed: 7 });
  ok(again.choices[0].message.content === long.choices[0].message.content, 'the same seed gives the same text');

  // errors through the client
  let e = null;
  try { await client.chat.completions.create({ model: 'no-such-model', messages: prompt }); } catch (x) { e = x; }
  ok(e instanceof OpenAI.NotFoundError && e.status === 404 && /does not exist/.test(e.message),
     'unknown model: 404 NotFoundError with a message', e && e.message);
  e = null;
  try { await client.chat.completions.create({ model, messages: [] }); } catch (x) { e = x; }
  ok(e instanceof OpenAI.BadRequestError && e.status === 400 && e.error && e.error.param === 'messages',
     'empty messages: 400 BadRequestError naming the parameter', e && e.message);
  e = null;
  try { await client.chat.completions.create({ model, messages: prompt, temperature: 9 }); } catch (x) { e = x; }
  ok(e instanceof OpenAI.BadRequestError, 'temperature 9: 400', e && e.message);

  // raw HTTP: bad JSON, a huge body, garbage, wrong method, unknown path
  const post = (body, extra = '') => 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    extra + 'Content-Length: ' + Buffer.byteLength(body) + '\r\n\r\n' + body;
  let r = await raw(post('{"model": "x", "messages": [}'));
  ok(/^HTTP\/1\.1 400 /.test(r) && /"type":"invalid_request_error"/.test(r), 'bad JSON: 400 with a JSON error', r.slice(0, 200));
  r = await raw('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n' + 'x'.repeat(100000));
  ok(/^HTTP\/1\.1 413 /.test(r) && /"error"/.test(r), 'a 5 MB body: 413 with a JSON error', r.slice(0, 200));
  r = await raw(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00, 0x00, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]));
  ok(/^HTTP\/1\.1 400 /.test(r), 'TLS bytes on the HTTP port: 400', r.slice(0, 80));
  r = await raw('GET /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n');
  ok(/^HTTP\/1\.1 405 /.test(r), 'GET on chat completions: 405', r.slice(0, 80));
  r = await raw('GET /v2/everything HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  ok(/^HTTP\/1\.1 404 /.test(r) && /Connection: close/.test(r), 'unknown path: 404, Connection: close honoured', r.slice(0, 200));
  r = await raw('GET /' + 'a'.repeat(2000) + ' HTTP/1.1\r\n\r\n');
  ok(/^HTTP\/1\.1 414 /.test(r), 'a 2000-byte target: 414', r.slice(0, 80));
  // keep-alive with two pipelined requests on one connection
  r = await raw('GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  ok((r.match(/HTTP\/1\.1 200 OK/g) || []).length === 2 && r.includes('"object":"list"'),
     'two pipelined requests on one connection, answered in order', r.slice(0, 300));

  // a client that disconnects cancels its generation
  let [, h0] = await health();
  const ctl = new AbortController();
  const cs = await client.chat.completions.create({ model, messages: prompt, max_tokens: 1500, temperature: 0.9,
                                                    stream: true }, { signal: ctl.signal });
  try {
    for await (const ch of cs) { if (ch.choices.length && ch.choices[0].delta.content) { ctl.abort(); } }
  } catch (x) { /* aborted */ }
  let h1 = h0;
  for (let i = 0; i < 600 && h1.cancelled === h0.cancelled; i++) {
    await new Promise((res) => setTimeout(res, 100));
    [, h1] = await health();
  }
  ok(h1.cancelled === h0.cancelled + 1, 'a client that disconnects mid-stream cancels its generation',
     JSON.stringify([h0, h1]));

  // flood: 200 requests, 20 at once, each on its own connection
  const t0 = Date.now();
  let good = 0, bad = [];
  const one = async (i) => {
    try {
      const res = await fetch(base + '/v1/chat/completions', {
        method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ model, messages: prompt, max_tokens: 4, temperature: 0 }),
      });
      const j = await res.json();
      if (res.status === 200 && expected.startsWith(j.choices[0].message.content) && j.usage.completion_tokens === 4) good++;
      else bad.push(res.status + ' ' + JSON.stringify(j).slice(0, 120));
    } catch (x) { bad.push(String(x)); }
  };
  let next = 0;
  await Promise.all(Array.from({ length: 20 }, async () => { while (next < 200) await one(next++); }));
  ok(good === 200, `flood: 200 requests, 20 at once, all answered (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
     bad.slice(0, 5).join('\n'));

  // garbage flood: 100 connections of junk, 20 at once, then it still serves
  next = 0;
  let answered = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next < 100) {
      const i = next++;
      const junk = Buffer.alloc(200 + (i * 37) % 3000);
      for (let k = 0; k < junk.length; k++) junk[k] = (k * 131 + i * 17) & 0xff;
      const got = await raw(junk, 500);
      if (/^HTTP\/1\.1 4\d\d /.test(got) || got === '') answered++;
    }
  }));
  const [hs, hj] = await health();
  ok(answered === 100 && hs === 200 && hj.status === 'ok', 'garbage flood: 100 junk connections refused, the server serves on',
     `answered ${answered}, health ${hs}`);
  const c2 = await client.chat.completions.create({ model, messages: prompt, max_tokens: 16, temperature: 0 });
  ok(c2.choices[0].message.content === expected, 'after the floods the greedy answer is unchanged');

  console.log(`1..${n}`);
  process.exit(failed ? 1 : 0);
}

main().catch((x) => { console.log(`not ok ${n + 1} - the client run failed: ${x && x.stack || x}`); process.exit(1); });
