/**
 * A bounded, durable queue of the puppet's events, kept until the bot confirms each one.
 *
 * Why: the puppet service forwards an event to the bot's gRPC stream only if one is open at
 * that moment. Events while the bot reconnects (or is down, or killed before it stored what
 * it was sent) would be lost. Every queued event gets a sequence number (sent to the bot as
 * `zhibuSeq` in the event payload); the bot acknowledges the numbers once it has stored the
 * events, and everything unacknowledged is replayed in order on its next connect. The bot
 * deduplicates by message id, so a replay of an event it did store is harmless.
 *
 * The file is JSON lines, appended as things happen (a killed gateway loses nothing it had
 * written) and rewritten compactly at start and after many acknowledgements:
 *   {"next": 42}                                  the next sequence number (first line)
 *   {"seq": 7, "name": "message", "payload": {…}, "at": 1733300000000}
 *   {"msg": "<message id>", "payload": {…}}       a message's payload, to replay it after a restart
 *   {"ack": [7, 8]}
 * Bounds: at most `maxEvents` events and none older than `maxAgeMs`; the oldest go first.
 */
import fs from 'node:fs'
import path from 'node:path'

const COMPACT_AFTER_ACKS = 1000

export class EventQueue {
  constructor ({ file, maxEvents = 10000, maxAgeMs = 24 * 3600 * 1000, log = () => {}, now = Date.now }) {
    this.file = file
    this.maxEvents = maxEvents
    this.maxAgeMs = maxAgeMs
    this.log = log
    this.now = now
    this.events = new Map()    // seq -> {seq, name, payload, at}, in insertion (= seq) order
    this.messages = new Map()  // message id -> payload, for events still queued
    this.queuedMessages = new Map() // message id -> seq of its queued event
    this.nextSeq = 1
    this.acksSinceCompact = 0
  }

  /** Read what a previous run left, drop what is acknowledged or out of bounds, rewrite. */
  load () {
    fs.mkdirSync(path.dirname(this.file), { recursive: true })
    if (fs.existsSync(this.file)) {
      const lines = fs.readFileSync(this.file, 'utf-8').split('\n')
      for (const line of lines) {
        if (!line.trim()) continue
        let record
        try {
          record = JSON.parse(line)
        } catch {
          continue // a line cut short by a crash
        }
        if (typeof record.next === 'number') {
          this.nextSeq = Math.max(this.nextSeq, record.next)
        } else if (typeof record.seq === 'number') {
          this.add(record)
          this.nextSeq = Math.max(this.nextSeq, record.seq + 1)
        } else if (typeof record.msg === 'string') {
          this.messages.set(record.msg, record.payload)
        } else if (Array.isArray(record.ack)) {
          for (const seq of record.ack) this.forget(seq)
        }
      }
    }
    for (const id of this.messages.keys()) {
      if (!this.queuedMessages.has(id)) this.messages.delete(id)
    }
    this.prune()
    this.compact()
    return this.events.size
  }

  push (name, payload) {
    const entry = { seq: this.nextSeq++, name, payload, at: this.now() }
    this.add(entry)
    this.append(entry)
    this.prune()
    return entry
  }

  rememberMessage (messageId, payload) {
    if (this.messages.has(messageId) || !this.queuedMessages.has(messageId)) return // known, or acknowledged already
    this.messages.set(messageId, payload)
    this.append({ msg: messageId, payload })
  }

  messagePayload (messageId) {
    return this.messages.get(messageId)
  }

  ack (seqs) {
    const known = seqs.filter(seq => this.events.has(seq))
    if (known.length === 0) return 0
    for (const seq of known) this.forget(seq)
    this.append({ ack: known })
    this.acksSinceCompact += known.length
    if (this.acksSinceCompact >= COMPACT_AFTER_ACKS) this.compact()
    return known.length
  }

  /** Unacknowledged events, oldest first. */
  pending () {
    this.prune()
    return [...this.events.values()]
  }

  get size () {
    return this.events.size
  }

  add (entry) {
    this.events.set(entry.seq, entry)
    if (entry.name === 'message' && entry.payload) this.queuedMessages.set(entry.payload.messageId, entry.seq)
  }

  forget (seq) {
    const entry = this.events.get(seq)
    this.events.delete(seq)
    if (entry && entry.name === 'message' && entry.payload &&
        this.queuedMessages.get(entry.payload.messageId) === seq) {
      this.queuedMessages.delete(entry.payload.messageId)
      this.messages.delete(entry.payload.messageId)
    }
  }

  prune () {
    const oldest = this.now() - this.maxAgeMs
    const dropped = []
    for (const entry of this.events.values()) {
      if (this.events.size <= this.maxEvents && entry.at >= oldest) break
      this.forget(entry.seq)
      dropped.push(entry.seq)
    }
    if (dropped.length > 0) {
      this.append({ ack: dropped }) // dropped for good: not back after a restart
      this.log(`event queue: dropped the ${dropped.length} oldest unconfirmed events ` +
               `(bounds: ${this.maxEvents} events, ${this.maxAgeMs / 3600000} h)`)
    }
  }

  append (record) {
    fs.appendFileSync(this.file, JSON.stringify(record) + '\n')
  }

  compact () {
    const lines = [JSON.stringify({ next: this.nextSeq })]
    for (const entry of this.events.values()) {
      lines.push(JSON.stringify(entry))
      if (entry.name === 'message' && this.messages.has(entry.payload.messageId)) {
        lines.push(JSON.stringify({ msg: entry.payload.messageId, payload: this.messages.get(entry.payload.messageId) }))
      }
    }
    const tmp = this.file + '.tmp'
    fs.writeFileSync(tmp, lines.join('\n') + '\n')
    fs.renameSync(tmp, this.file)
    this.acksSinceCompact = 0
  }
}

/** Events a bot must not miss; the rest (login, scan, heartbeat, …) describe the present. */
export const QUEUED_EVENTS = new Set(['message', 'room-join', 'room-leave', 'room-topic', 'room-invite', 'friendship'])
export const ACK_PREFIX = 'zhibu-ack:'

/**
 * Route the puppet's events through `queue`:
 * - each new event of QUEUED_EVENTS is stored, then emitted with its `zhibuSeq`;
 * - `ding("zhibu-ack:1,2")` (the bot, through the authenticated gRPC channel) acknowledges;
 * - when a bot opens an event stream (the puppet service subscribes to `message`), the
 *   unacknowledged events are replayed in order, after the `login` the service sends first;
 * - a queued message's payload is kept, so it can be replayed after a gateway restart.
 */
export function attachEventQueue (puppet, queue, log = () => {}) {
  const emit = puppet.emit.bind(puppet)
  puppet.emit = (name, payload, ...rest) => {
    if (!QUEUED_EVENTS.has(name) || !payload || typeof payload !== 'object' || 'zhibuSeq' in payload) {
      return emit(name, payload, ...rest)
    }
    const entry = queue.push(name, payload)
    if (name === 'message' && payload.messageId) {
      Promise.resolve()
        .then(() => puppet.messagePayload(payload.messageId))
        .then(message => queue.rememberMessage(payload.messageId, message))
        .catch(() => {}) // a payload the puppet cannot give now is fetched live at replay
    }
    return emit(name, { ...payload, zhibuSeq: entry.seq }, ...rest)
  }

  const ding = puppet.ding.bind(puppet)
  puppet.ding = (data, ...rest) => {
    if (typeof data === 'string' && data.startsWith(ACK_PREFIX)) {
      const seqs = data.slice(ACK_PREFIX.length).split(',').map(Number).filter(Number.isInteger)
      queue.ack(seqs)
      return undefined
    }
    return ding(data, ...rest)
  }

  const messagePayload = puppet.messagePayload.bind(puppet)
  puppet.messagePayload = async (messageId, ...rest) => {
    try {
      return await messagePayload(messageId, ...rest)
    } catch (e) {
      const kept = queue.messagePayload(messageId)
      if (kept) return kept
      throw e
    }
  }

  let awaitingLogin = false
  const replay = () => {
    if (!puppet.isLoggedIn) {
      // The bot expects its login first: replay right after the login is forwarded (once,
      // however many bots connected meanwhile).
      if (!awaitingLogin) {
        awaitingLogin = true
        puppet.once('login', () => {
          awaitingLogin = false
          setImmediate(replay)
        })
      }
      return
    }
    const pending = queue.pending()
    if (pending.length === 0 || puppet.listenerCount('message') === 0) return
    log(`replaying ${pending.length} unconfirmed events to the bot`)
    for (const entry of pending) emit(entry.name, { ...entry.payload, zhibuSeq: entry.seq })
  }
  puppet.on('newListener', name => {
    // The service's event stream subscribes synchronously and sends `login` before returning.
    if (name === 'message') setImmediate(replay)
  })
}
