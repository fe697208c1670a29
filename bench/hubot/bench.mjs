// Hubot peer benchmark: one robot.hear(regex) listener per generated entry, messages fed
// through robot.receive as TextMessages, replies recorded by a minimal in-process adapter.
// Checks Hubot answers with exactly the entries kotae answers with, then times it.
// Usage (run.sh does this): node bench.mjs pack.json   (from a dir where `hubot` is installed)
import { readFileSync } from 'node:fs'
import { Robot, Adapter, TextMessage, User } from 'hubot'

const doc = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const SECONDS = Number(process.env.BENCH_SECONDS || 2)

// The in-process adapter: send/reply record what the robot says, nothing goes anywhere.
class RecordingAdapter extends Adapter {
  constructor (robot) { super(robot); this.sent = [] }
  async send (envelope, ...strings) { this.sent.push(...strings) }
  async reply (envelope, ...strings) { this.sent.push(...strings) }
  async run () { this.emit('connected') }
  close () { super.close() }
}

// k-element combinations of the keyword groups (kotae: at least min_keywords groups co-occur).
function combinations (items, k) {
  if (k === 0) return [[]]
  if (items.length < k) return []
  const [first, ...rest] = items
  return combinations(rest, k - 1).map(c => [first, ...c]).concat(combinations(rest, k))
}

// One JS regex per entry: any strong rule, or min_keywords keyword groups anywhere (lookaheads).
function entryRegex (e) {
  const alts = e.strong.map(s => `(?:${s})`)
  if (e.keyword_groups.length > 0 && e.min_keywords > 0) {
    for (const combo of combinations(e.keyword_groups, e.min_keywords)) {
      alts.push('^' + combo.map(g => `(?=[\\s\\S]*(?:${g}))`).join(''))
    }
  }
  return new RegExp(alts.join('|'), 'iu')
}

const robot = new Robot({ use: async (r) => new RecordingAdapter(r) }, false, 'kotae-bench')
await robot.loadAdapter()
for (const e of doc.entries) {
  robot.hear(entryRegex(e), { id: e.id }, async (res) => { await res.send(e.id) })
}
await robot.run()
const user = new User('1', { name: 'bench', room: 'support' })
let seq = 0

async function feed (text) {
  robot.adapter.sent = []
  await robot.receive(new TextMessage(user, text, String(seq++)))
  return robot.adapter.sent
}

const version = JSON.parse(readFileSync('node_modules/hubot/package.json', 'utf8')).version
console.log(`hubot ${version}: ${doc.entries.length} listeners, node ${process.version}`)
console.log('| entries | size | kotae msg/s | Hubot msg/s | kotae / Hubot |')
console.log('|--------:|-----:|------------:|------------:|--------------:|')
let failed = false
for (const set of doc.sets) {
  for (const m of set.messages) {
    const got = [...new Set(await feed(m.text))].sort()
    if (JSON.stringify(got) !== JSON.stringify(m.expected)) {
      console.error(`MISMATCH ${set.bytes} B ${m.kind}: kotae ${JSON.stringify(m.expected)} hubot ${JSON.stringify(got)}`)
      failed = true
    }
  }
  if (failed) continue
  for (let i = 0; i < 3; i++) for (const m of set.messages) await feed(m.text) // warm up
  let done = 0
  const start = process.hrtime.bigint()
  let elapsed = 0
  while (elapsed < SECONDS) {
    for (const m of set.messages) await feed(m.text)
    done += set.messages.length
    elapsed = Number(process.hrtime.bigint() - start) / 1e9
  }
  const perS = done / elapsed
  console.log(`| ${doc.entries.length} | ${set.bytes} B | ${set.kotae_per_s.toFixed(0)} | ${perS.toFixed(1)} | ${(set.kotae_per_s / perS).toFixed(0)}× |`)
}
console.log('target (issue 6): kotae at least 20× faster than Hubot at 1,000 entries, 1 KB messages')
robot.shutdown()
if (failed) {
  console.error('Hubot does not find the same entries as kotae: no timing for those sizes')
  process.exit(1)
}
