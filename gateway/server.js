#!/usr/bin/env node
/**
 * Zhibu gateway: hosts a Wechaty puppet behind the Wechaty puppet service (gRPC),
 * which is what the Python bot (`zhibu run`) connects to.
 *
 *   Real account:  node server.js --puppet wechaty-puppet-xxx --token <secret> [--host 127.0.0.1] [--port 8788]
 *   Test mock:     node server.js --mock --token <secret> --port <p> --world world.json [--state state.json]
 *                  [--control-port 0] [--id-style stable|web] [--exit-with-parent]
 *   Both:          [--state-dir dir] [--queue-max-events 10000] [--queue-max-hours 24]
 *
 * gRPC runs WITHOUT TLS (the Python SDK speaks plain gRPC): keep it on loopback or a private
 * network. The token is checked on every call.
 *
 * Events the bot must not miss (messages, room changes, invitations) are kept in a durable
 * queue (<state-dir>/events.jsonl, default state/ next to this script) until the bot
 * acknowledges them, and replayed in order when a bot connects: see event-queue.js.
 *
 * In --mock mode a puppet-mock world (the bot, contacts, rooms) is built from --world and a
 * small HTTP control channel on 127.0.0.1 lets tests drive it:
 *   GET  /state                         ids of the bot, contacts (by key) and rooms (by key)
 *   POST /say      {from, room?, text, mentions?, mention_bot?, mention_list?, age_seconds?}
 *   GET  /sent?since=N                  texts the bot sent (with index, conversation, mentions)
 *   POST /room/add {room, members, by?} members (may include "bot") join a room
 *   POST /room/remove {room, members, by?}
 *   POST /room/topic {room, topic, by?}
 *   POST /fail     {text, count?}       the next sends fail with this error text
 *   POST /hold     {on}                 sends wait (not sent, not failed) until held off;
 *                                       GET /held says how many wait (a send in flight)
 *   POST /logout, POST /login
 * With "id_style": "web" in the world every start invents new contact and room ids (as
 * web-protocol puppets do at each login); contact aliases (remarks) survive via --state.
 * One line "ZHIBU_GATEWAY_READY {json}" on stdout says the gateway is serving.
 */
process.noDeprecation = true

import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import * as PUPPET from 'wechaty-puppet'
import { PuppetServer } from 'wechaty-puppet-service'
import { PuppetMock, mock } from 'wechaty-puppet-mock'

import { EventQueue, attachEventQueue } from './event-queue.js'

function parseArgs (argv) {
  const args = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) continue
    const key = arg.slice(2)
    const next = argv[i + 1]
    if (next === undefined || next.startsWith('--')) {
      args[key] = true
    } else {
      args[key] = next
      i++
    }
  }
  return args
}

const args = parseArgs(process.argv.slice(2))
const TOKEN = args.token || process.env.WECHATY_PUPPET_SERVICE_TOKEN
const HOST = args.host || '127.0.0.1'
const PORT = Number(args.port || process.env.WECHATY_PUPPET_SERVER_PORT || 8788)
const STATE_DIR = args['state-dir'] || process.env.ZHIBU_GATEWAY_STATE_DIR ||
  path.join(path.dirname(fileURLToPath(import.meta.url)), 'state')
const QUEUE_MAX_EVENTS = Number(args['queue-max-events'] || process.env.ZHIBU_GATEWAY_QUEUE_MAX_EVENTS || 10000)
const QUEUE_MAX_HOURS = Number(args['queue-max-hours'] || process.env.ZHIBU_GATEWAY_QUEUE_MAX_HOURS || 24)

if (!TOKEN) {
  console.error('gateway: a token is required (--token or WECHATY_PUPPET_SERVICE_TOKEN)')
  process.exit(2)
}

function log (...parts) {
  if (!args.quiet) console.error('[gateway]', ...parts)
}

/* ------------------------------------------------------------------ mock puppet */

const ROOM_TYPE = PUPPET.types.Message.Text

class ZhibuMockPuppet extends PuppetMock {
  constructor (options) {
    super(options)
    this.sent = []            // texts the bot sent, in order
    this.failures = []        // injected send errors
    this.hold = null          // while set, sends wait on hold.released (a send stuck in flight)
    this.heldSends = 0
    this.onAliasChange = () => {}
  }

  isRoomId (id) {
    return this.mocker.cacheRoomPayload.has(id)
  }

  /** Stock PuppetMock returns no message id, which breaks Python's `say()`: return it. */
  async messageSendText (conversationId, text, mentionIdList) {
    if (!this.isLoggedIn) throw new Error('not logged in')
    if (this.hold) {
      this.heldSends += 1
      try { await this.hold.released } finally { this.heldSends -= 1 }
    }
    if (this.failures.length > 0) {
      const failure = this.failures[0]
      failure.count -= 1
      if (failure.count <= 0) this.failures.shift()
      throw new Error(failure.text)
    }
    const selfId = this.currentUserId
    const payload = {
      id: crypto.randomUUID(),
      talkerId: selfId,
      text,
      timestamp: Date.now(),
      type: ROOM_TYPE,
    }
    if (this.isRoomId(conversationId)) {
      const room = this.mocker.roomPayload(conversationId)
      if (!room.memberIdList.includes(selfId)) {
        throw new Error(`room ${conversationId} not found: the bot is not a member`)
      }
      payload.roomId = conversationId
      payload.mentionIdList = mentionIdList || []
    } else if (this.mocker.cacheContactPayload.has(conversationId)) {
      payload.listenerId = conversationId
    } else {
      throw new Error(`contact ${conversationId} not found`)
    }
    this.mocker.MessageMock.create(payload)
    this.sent.push({
      index: this.sent.length,
      id: payload.id,
      conversation_id: conversationId,
      room_id: payload.roomId || null,
      to_id: payload.listenerId || null,
      text,
      mention_ids: mentionIdList || [],
      at: payload.timestamp,
    })
    // Real puppets echo the bot's own messages back as `message` events.
    setImmediate(() => this.emit('message', { messageId: payload.id }))
    return payload.id
  }

  async contactAlias (contactId, alias) {
    const payload = this.mocker.contactPayload(contactId)
    if (typeof alias === 'undefined') {
      return payload.alias || ''
    }
    payload.alias = alias || undefined
    this.cache.contact.delete(contactId)
    this.onAliasChange(contactId, alias)
  }

  async roomList () {
    const selfId = this.currentUserId
    return [...this.mocker.cacheRoomPayload.values()]
      .filter(room => room.memberIdList.includes(selfId))
      .map(room => room.id)
  }

  async roomDel (roomId, contactId) {
    const room = this.mocker.RoomMock.load(roomId)
    room.remove(this.mocker.ContactMock.load(contactId)).by(this.mocker.ContactMock.load(this.currentUserId))
  }

  async roomAnnounce (roomId, text) {
    if (text) return
    return ''
  }
}

function newWebId (prefix) {
  return prefix + crypto.randomBytes(16).toString('hex')
}

function buildMockWorld (world, state) {
  const idStyle = args['id-style'] || world.id_style || 'stable'
  const aliases = state.aliases || {}
  // Stable ids (pad/iPad puppets): the spec's "id", else wxid_<key> / <key>@chatroom.
  // Web ids (wechat4u): new random ids at every start, as at every web login.
  const contactId = spec => idStyle === 'web' ? newWebId('@') : (spec.id || `wxid_${spec.key}`)
  const roomId = spec => idStyle === 'web' ? newWebId('@@') : (spec.id || `${spec.key}@chatroom`)

  const mocker = new mock.Mocker()
  const puppet = new ZhibuMockPuppet({ mocker })
  const byKey = { contacts: {}, rooms: {} }
  const keyOfId = {}

  const selfSpec = world.self || { key: 'bot', name: '支部助手' }
  const selfKey = selfSpec.key || 'bot'
  const addContact = spec => {
    const id = contactId(spec)
    const contact = mocker.createContact({
      id,
      name: spec.name,
      alias: aliases[spec.key] || spec.alias || undefined,
      friend: spec.friend !== false,
      weixin: idStyle === 'web' ? undefined : id,
      avatar: '',
      phone: [],
      address: '',
      city: '',
      province: '',
      signature: '',
    })
    byKey.contacts[spec.key] = contact
    keyOfId[id] = spec.key
    return contact
  }
  const self = addContact({ ...selfSpec, key: selfKey, friend: true })
  byKey.contacts.bot = self
  for (const spec of world.contacts || []) addContact(spec)

  for (const spec of world.rooms || []) {
    const members = (spec.members || []).map(key => byKey.contacts[key === 'bot' ? 'bot' : key].id)
    if (spec.bot_in !== false && !members.includes(self.id)) members.push(self.id)
    const room = mocker.createRoom({
      id: roomId(spec),
      topic: spec.topic,
      memberIdList: members,
      adminIdList: [],
      ownerId: members[0],
      avatar: '',
    })
    byKey.rooms[spec.key] = room
    keyOfId[room.id] = spec.key
  }

  puppet.onAliasChange = (id, alias) => {
    const key = keyOfId[id]
    if (!key) return
    state.aliases = state.aliases || {}
    if (alias) state.aliases[key] = alias
    else delete state.aliases[key]
    if (args.state) fs.writeFileSync(args.state, JSON.stringify(state, null, 2))
  }

  // Log in whenever the puppet starts (first start, or after a client's stop/start).
  mocker.use(m => {
    const doLogin = () => {
      if (!puppet.isLoggedIn) m.login(self)
    }
    if (world.scan) {
      m.scan(world.scan_qrcode || 'https://login.weixin.qq.com/l/zhibu-mock', PUPPET.types.ScanStatus.Waiting)
      const timer = setTimeout(doLogin, Number(world.scan_delay_ms || 500))
      return () => clearTimeout(timer)
    }
    doLogin()
    return () => {}
  })

  return { puppet, mocker, byKey, keyOfId, self }
}

function readJson (file, fallback) {
  if (!file || !fs.existsSync(file)) return fallback
  return JSON.parse(fs.readFileSync(file, 'utf-8'))
}

function controlServer (ctx, queue) {
  const { puppet, byKey } = ctx
  const contact = key => {
    const found = byKey.contacts[key]
    if (!found) throw new Error(`unknown contact key ${key}`)
    return found
  }
  const room = key => {
    const found = byKey.rooms[key]
    if (!found) throw new Error(`unknown room key ${key}`)
    return found
  }

  const routes = {
    'GET /state': () => ({
      logged_in: puppet.isLoggedIn,
      self: { id: ctx.self.id, name: ctx.self.payload.name },
      contacts: Object.fromEntries(Object.entries(byKey.contacts).map(([k, c]) => [k, {
        id: c.id, name: c.payload.name, alias: c.payload.alias || null,
      }])),
      rooms: Object.fromEntries(Object.entries(byKey.rooms).map(([k, r]) => [k, {
        id: r.id, topic: r.payload.topic, member_ids: [...r.payload.memberIdList],
      }])),
    }),
    'GET /queue': () => ({ pending: queue.pending().map(e => ({ seq: e.seq, name: e.name, payload: e.payload })) }),
    'GET /sent': (body, query) => {
      const since = Number(query.get('since') || 0)
      return { sent: puppet.sent.slice(since), total: puppet.sent.length }
    },
    'POST /say': body => {
      const talker = contact(body.from)
      const mentions = (body.mentions || []).map(contact)
      if (body.mention_bot) mentions.push(ctx.self)
      const payload = {
        id: crypto.randomUUID(),
        talkerId: talker.id,
        text: body.text,
        timestamp: Date.now() - Number(body.age_seconds || 0) * 1000,
        type: body.type === undefined ? ROOM_TYPE : Number(body.type),
      }
      if (body.room) {
        payload.roomId = room(body.room).id
        payload.mentionIdList = body.mention_list === false ? [] : mentions.map(c => c.id)
      } else {
        payload.listenerId = contact(body.to || 'bot').id
      }
      ctx.mocker.MessageMock.create(payload)
      const times = Number(body.deliveries || 1)
      for (let i = 0; i < times; i++) puppet.emit('message', { messageId: payload.id })
      return { message_id: payload.id }
    },
    'POST /room/add': body => {
      const r = room(body.room)
      const invitees = body.members.map(contact).filter(c => !r.payload.memberIdList.includes(c.id))
      puppet.cache.room.delete(r.id)
      puppet.cache.roomMember.clear?.()
      r.add(...invitees).by(body.by ? contact(body.by) : ctx.self)
      return { room_id: r.id }
    },
    'POST /room/remove': body => {
      const r = room(body.room)
      puppet.cache.room.delete(r.id)
      r.remove(...body.members.map(contact)).by(body.by ? contact(body.by) : ctx.self)
      return { room_id: r.id }
    },
    'POST /room/topic': body => {
      const r = room(body.room)
      puppet.cache.room.delete(r.id)
      r.topic(body.topic).by(body.by ? contact(body.by) : ctx.self)
      return { room_id: r.id }
    },
    'POST /hold': body => {
      if (body.on && !puppet.hold) {
        let release
        const released = new Promise(resolve => { release = resolve })
        puppet.hold = { released, release }
      } else if (!body.on && puppet.hold) {
        puppet.hold.release()
        puppet.hold = null
      }
      return { held: puppet.heldSends }
    },
    'GET /held': () => ({ held: puppet.heldSends }),
    'POST /fail': body => {
      puppet.failures.push({ text: body.text, count: Number(body.count || 1) })
      return { queued: puppet.failures.length }
    },
    'POST /logout': async () => {
      await puppet.logout('control')
      return { logged_in: puppet.isLoggedIn }
    },
    'POST /login': () => {
      if (!puppet.isLoggedIn) puppet.login(ctx.self.id)
      return { logged_in: puppet.isLoggedIn }
    },
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1')
    const handler = routes[`${req.method} ${url.pathname}`]
    let raw = ''
    req.on('data', chunk => { raw += chunk })
    req.on('end', async () => {
      res.setHeader('content-type', 'application/json; charset=utf-8')
      if (!handler) {
        res.statusCode = 404
        res.end(JSON.stringify({ error: `no route ${req.method} ${url.pathname}` }))
        return
      }
      try {
        const body = raw ? JSON.parse(raw) : {}
        const result = await handler(body, url.searchParams)
        res.end(JSON.stringify(result))
      } catch (e) {
        res.statusCode = 400
        res.end(JSON.stringify({ error: String(e && e.message ? e.message : e) }))
      }
    })
  })
  return server
}

/* ------------------------------------------------------------------ main */

async function loadRealPuppet (name) {
  let mod
  try {
    mod = await import(name)
  } catch (e) {
    console.error(`gateway: cannot load puppet "${name}": ${e.message}`)
    console.error(`gateway: install it next to this script first: npm install --prefix gateway --no-save ${name}`)
    process.exit(2)
  }
  const PuppetClass = mod.default || Object.values(mod).find(v => typeof v === 'function' && /^Puppet/.test(v.name))
  if (!PuppetClass) {
    console.error(`gateway: "${name}" exports no puppet class`)
    process.exit(2)
  }
  return new PuppetClass()
}

async function main () {
  let puppet
  let ctx = null
  if (args.mock) {
    const world = readJson(args.world, { contacts: [], rooms: [] })
    const state = readJson(args.state, {})
    ctx = buildMockWorld(world, state)
    puppet = ctx.puppet
  } else {
    const name = args.puppet || process.env.WECHATY_PUPPET
    if (!name) {
      console.error('gateway: name a puppet (--puppet wechaty-puppet-xxx or WECHATY_PUPPET), or use --mock')
      process.exit(2)
    }
    puppet = await loadRealPuppet(name)
    puppet.on('scan', ({ qrcode, status }) => {
      if (qrcode && status === PUPPET.types.ScanStatus.Waiting) {
        log(`scan this QR code with the bot's WeChat: https://wechaty.js.org/qrcode/${encodeURIComponent(qrcode)}`)
      }
    })
    puppet.on('login', ({ contactId }) => log(`logged in as ${contactId}`))
    puppet.on('logout', ({ contactId, data }) => log(`logged out ${contactId}: ${data || ''}`))
    puppet.on('error', e => log('puppet error:', e && (e.gerror || e.data || e.message || e)))
  }

  const queue = new EventQueue({
    file: path.join(STATE_DIR, 'events.jsonl'),
    maxEvents: QUEUE_MAX_EVENTS,
    maxAgeMs: QUEUE_MAX_HOURS * 3600 * 1000,
    log,
  })
  const held = queue.load()
  if (held > 0) log(`holding ${held} unconfirmed events from the last run`)
  attachEventQueue(puppet, queue, log)

  const server = new PuppetServer({
    endpoint: `${HOST}:${PORT}`,
    puppet,
    token: TOKEN,
    tls: { disable: true },  // the Python SDK speaks plain gRPC
  })
  await server.start()
  // Start the puppet now: a real account shows its QR code at once, the mock logs in.
  await puppet.start()

  const ready = { grpc: `${HOST}:${PORT}`, pid: process.pid }
  let control = null
  if (ctx) {
    control = controlServer(ctx, queue)
    await new Promise(resolve => control.listen(Number(args['control-port'] || 0), '127.0.0.1', resolve))
    ready.control = `http://127.0.0.1:${control.address().port}`
    ready.self_id = ctx.self.id
  }
  process.stdout.write(`ZHIBU_GATEWAY_READY ${JSON.stringify(ready)}\n`)
  log(`serving the puppet service on ${HOST}:${PORT}${ctx ? ' (puppet-mock)' : ''}`)

  let stopping = false
  const shutdown = async () => {
    if (stopping) return
    stopping = true
    log('stopping ...')
    const force = setTimeout(() => process.exit(0), 3000)
    force.unref()
    try {
      if (control) control.close()
      await server.stop()
      await puppet.stop()
    } catch (e) {
      log('stop error', e.message)
    }
    process.exit(0)
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)

  if (args['exit-with-parent']) {
    // Test runs: never outlive the process that started us (even if it was killed hard).
    const parent = process.ppid
    setInterval(() => {
      try {
        process.kill(parent, 0)
      } catch {
        shutdown()
      }
    }, 1000).unref()
  }
}

main().catch(e => {
  console.error('gateway: failed to start:', e && e.stack ? e.stack : e)
  process.exit(1)
})
