

/// The scripts. Each takes the key prefix as ARGV[1]; the rest is listed above each one.
enum RedisScripts {
    /// Helpers every script starts with.
    private static let prelude = """
        local p = ARGV[1]
        local function bkey(id) return p .. 'build:' .. id end
        local function lkey(id) return p .. 'log:' .. id end
        -- Appends one line Prox writes itself to a build's log.
        local function line(id, step, text, now)
          local b = bkey(id)
          local created = tonumber(redis.call('HGET', b, 'created') or now)
          local seq = redis.call('HINCRBY', b, 'lines', 1)
          local event = cjson.encode({seq = seq, step = step, stream = 'info', text = text, elapsed = (tonumber(now) - created) / 1000})
          redis.call('XADD', lkey(id), '*', 'seq', seq, 'event', event)
        end
        -- Ends a build's log, starts the expiry of its record and log, releases its marker.
        local function finish(id, state, logTTL, recordTTL)
          local b = bkey(id)
          redis.call('XADD', lkey(id), '*', 'end', state)
          redis.call('EXPIRE', lkey(id), logTTL)
          redis.call('EXPIRE', b, recordTTL)
          local key = redis.call('HGET', b, 'key')
          if key and redis.call('GET', p .. 'inflight:' .. key) == id then redis.call('DEL', p .. 'inflight:' .. key) end
          redis.call('HDEL', p .. 'active', id)
          redis.call('SREM', p .. 'queued', id)
        end
        local function owned(id, agent)
          local b = bkey(id)
          return redis.call('HGET', b, 'worker') == agent and redis.call('HGET', b, 'state') == 'running'
        end
        local function renew(id, ttl)
          local key = redis.call('HGET', bkey(id), 'key')
          if not key then return end
          local marker = p .. 'inflight:' .. key
          local current = redis.call('GET', marker)
          if not current or current == id then redis.call('SET', marker, id, 'PX', ttl) end
        end

        """

    /// Queues a build, joins the live build of the same key, or records a cache hit.
    /// ARGV: 2 cache key, 3 new id, 4 requested id or '', 5 build JSON, 6 now ms, 7 jobs
    /// stream, 8 marker TTL ms, 9 cached digest or '', 10 cached size, 11 job JSON,
    /// 12 recent limit, 13 record TTL s, 14 log TTL s, 15 max queued (0: no bound),
    /// 16 client or '', 17 client builds per period (0: no limit), 18 period ms,
    /// 19 client concurrent builds (0: no limit), 20... first log lines (text).
    /// Returns {outcome, id}: created, joined, cached, existing, conflict; or a refusal of a
    /// new build: {'full', waiting}, {'rate', seconds until the client may start one},
    /// {'concurrent', ''}.
    static let submit = RedisScript(
        prelude + """
            local key, id, requested = ARGV[2], ARGV[3], ARGV[4]
            local now, stream, markerTTL = ARGV[6], ARGV[7], ARGV[8]
            local cachedDigest, cachedSize, recordTTL, logTTL = ARGV[9], ARGV[10], ARGV[13], ARGV[14]
            if requested ~= '' then
              local canonical = redis.call('GET', p .. 'alias:' .. requested) or requested
              local existingKey = redis.call('HGET', bkey(canonical), 'key')
              if existingKey then
                if existingKey ~= key then return {'conflict', canonical} end
                return {'existing', canonical}
              end
            end
            if cachedDigest == '' then
              local running = redis.call('GET', p .. 'inflight:' .. key)
              if running then
                local state = redis.call('HGET', bkey(running), 'state')
                if state == 'queued' or state == 'running' then
                  if requested ~= '' and requested ~= running then
                    redis.call('SET', p .. 'alias:' .. requested, running, 'EX', recordTTL)
                  end
                  return {'joined', running}
                end
                redis.call('DEL', p .. 'inflight:' .. key)
              end
            end
            local client, rate, period, concurrent = ARGV[16], tonumber(ARGV[17]), tonumber(ARGV[18]), tonumber(ARGV[19])
            local starts, mine = p .. 'client:' .. client .. ':starts', p .. 'client:' .. client .. ':active'
            if cachedDigest == '' then
              local maxQueued = tonumber(ARGV[15])
              if maxQueued > 0 and redis.call('SCARD', p .. 'queued') >= maxQueued then
                for _, q in ipairs(redis.call('SMEMBERS', p .. 'queued')) do
                  if redis.call('HGET', bkey(q), 'state') ~= 'queued' then redis.call('SREM', p .. 'queued', q) end
                end
                local waiting = redis.call('SCARD', p .. 'queued')
                if waiting >= maxQueued then return {'full', tostring(waiting)} end
              end
              if client ~= '' and rate > 0 then
                redis.call('ZREMRANGEBYSCORE', starts, '-inf', tonumber(now) - period)
                if redis.call('ZCARD', starts) >= rate then
                  local oldest = redis.call('ZRANGE', starts, 0, 0, 'WITHSCORES')
                  return {'rate', tostring(math.max(1, math.ceil((tonumber(oldest[2]) + period - tonumber(now)) / 1000)))}
                end
              end
              if client ~= '' and concurrent > 0 then
                for _, a in ipairs(redis.call('SMEMBERS', mine)) do
                  local st = redis.call('HGET', bkey(a), 'state')
                  if st ~= 'queued' and st ~= 'running' then redis.call('SREM', mine, a) end
                end
                if redis.call('SCARD', mine) >= concurrent then return {'concurrent', ''} end
              end
            end
            local b = bkey(id)
            redis.call('HSET', b, 'id', id, 'key', key, 'build', ARGV[5], 'created', now, 'stream', stream, 'attempts', 0)
            for i = 20, #ARGV do line(id, i == 20 and 'queued' or 'resolve', ARGV[i], now) end
            redis.call('ZADD', p .. 'recent', now, id)
            redis.call('ZREMRANGEBYRANK', p .. 'recent', 0, -tonumber(ARGV[12]) - 1)
            if cachedDigest ~= '' then
              redis.call('HSET', b, 'state', 'succeeded', 'cached', '1', 'digest', cachedDigest, 'size', cachedSize, 'started', now, 'finished', now)
              line(id, 'done', 'served from the cache: sha256 ' .. cachedDigest .. ', ' .. cachedSize .. ' bytes', now)
              finish(id, 'succeeded', logTTL, recordTTL)
              return {'cached', id}
            end
            redis.call('HSET', b, 'state', 'queued', 'cached', '0')
            redis.call('SADD', p .. 'queued', id)
            if client ~= '' and rate > 0 then
              redis.call('ZADD', starts, now, id)
              redis.call('PEXPIRE', starts, period)
            end
            if client ~= '' and concurrent > 0 then
              redis.call('SADD', mine, id)
              redis.call('EXPIRE', mine, recordTTL)
            end
            redis.call('SET', p .. 'inflight:' .. key, id, 'PX', markerTTL)
            redis.call('HSET', p .. 'active', id, key)
            local entry = redis.call('XADD', stream, '*', 'build', id, 'job', ARGV[11])
            redis.call('SADD', p .. 'streams', stream)
            redis.call('HSET', b, 'entry', entry)
            return {'created', id}
            """
    )

    /// An agent begins a delivered job. ARGV: 2 id, 3 agent, 4 now ms, 5 max attempts,
    /// 6 jobs stream, 7 group, 8 entry id, 9 log TTL s, 10 record TTL s, 11 marker TTL ms.
    /// Returns {'started', attempt}, {'gone', state} (already finished: acknowledged) or
    /// {'exhausted', message} (recorded as failed and acknowledged).
    static let start = RedisScript(
        prelude + """
            local id, agent, now, maxAttempts = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
            local stream, group, entry = ARGV[6], ARGV[7], ARGV[8]
            local b = bkey(id)
            local state = redis.call('HGET', b, 'state')
            if state ~= 'queued' and state ~= 'running' then
              redis.call('XACK', stream, group, entry)
              redis.call('XDEL', stream, entry)
              return {'gone', state or 'expired'}
            end
            local previous = redis.call('HGET', b, 'worker') or ''
            local attempts = redis.call('HINCRBY', b, 'attempts', 1)
            if attempts > maxAttempts then
              local message = 'the build was started ' .. maxAttempts .. ' times and each time its agent stopped responding before it finished (last: ' .. previous .. '): it will not be retried; check that agent (memory, disk) and request the build again'
              redis.call('HSET', b, 'state', 'failed', 'finished', now, 'error', cjson.encode({kind = 'buildFailed', message = message}))
              line(id, 'done', 'build failed: ' .. message, now)
              finish(id, 'failed', ARGV[9], ARGV[10])
              redis.call('XACK', stream, group, entry)
              redis.call('XDEL', stream, entry)
              return {'exhausted', message}
            end
            redis.call('HSET', b, 'state', 'running', 'worker', agent, 'started', now, 'entry', entry)
            redis.call('SREM', p .. 'queued', id)
            renew(id, ARGV[11])
            if previous ~= '' and attempts > 1 then
              line(id, 'queued', 'attempt ' .. attempts .. ' of ' .. maxAttempts .. ', on agent ' .. agent .. ': agent ' .. previous .. ' stopped responding', now)
            else
              line(id, 'queued', 'started on agent ' .. agent, now)
            end
            return {'started', tostring(attempts)}
            """
    )

    /// Appends an agent's log lines, if the agent still owns the build. ARGV: 2 id,
    /// 3 agent, 4 max lines, 5 now ms, 6... event JSON. Returns lines written, or -1 when
    /// the build is no longer this agent's (it must stop).
    static let append = RedisScript(
        prelude + """
            local id, agent, maxLines = ARGV[2], ARGV[3], tonumber(ARGV[4])
            if not owned(id, agent) then return -1 end
            local b = bkey(id)
            local written = 0
            for i = 6, #ARGV do
              local lines = tonumber(redis.call('HGET', b, 'lines') or '0')
              if lines < maxLines then
                local seq = redis.call('HINCRBY', b, 'lines', 1)
                redis.call('XADD', lkey(id), '*', 'seq', seq, 'event', ARGV[i])
                written = written + 1
              elseif redis.call('HSETNX', b, 'truncated', '1') == 1 then
                line(id, 'build', '... log truncated after ' .. maxLines .. ' lines', ARGV[5])
              end
            end
            return written
            """
    )

    /// Renews an agent's claims (resets their idle time) and its builds' markers. ARGV:
    /// 2 agent, 3 stream, 4 group, 5 marker TTL ms, then id, entry pairs. Returns the ids
    /// this agent no longer owns (reclaimed by another agent, or finished).
    static let heartbeat = RedisScript(
        prelude + """
            local agent, stream, group = ARGV[2], ARGV[3], ARGV[4]
            local lost = {}
            for i = 6, #ARGV, 2 do
              local id, entry = ARGV[i], ARGV[i + 1]
              local kept = false
              if owned(id, agent) then
                local pending = redis.call('XPENDING', stream, group, entry, entry, 1)
                if pending[1] and pending[1][2] == agent then
                  redis.call('XCLAIM', stream, group, agent, 0, entry, 'JUSTID')
                  renew(id, ARGV[5])
                  kept = true
                end
              end
              if not kept then table.insert(lost, id) end
            end
            return lost
            """
    )

    /// Records a build's result and acknowledges its job. ARGV: 2 id, 3 agent, 4 state
    /// ('succeeded' | 'failed' | 'cancelled'), 5 now ms, 6 log TTL s, 7 record TTL s,
    /// 8 stream, 9 group, 10 entry, 11 digest, 12 size, 13 origin, 14 error JSON,
    /// 15 last log line. Returns 'ok', or 'lost' if the build is no longer this agent's.
    static let complete = RedisScript(
        prelude + """
            local id, agent, state, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
            if not owned(id, agent) then return 'lost' end
            local b = bkey(id)
            if state == 'succeeded' then
              redis.call('HSET', b, 'state', state, 'finished', now, 'digest', ARGV[11], 'size', ARGV[12], 'origin', ARGV[13])
            else
              redis.call('HSET', b, 'state', state, 'finished', now, 'error', ARGV[14])
            end
            line(id, 'done', ARGV[15], now)
            finish(id, state, ARGV[6], ARGV[7])
            redis.call('XACK', ARGV[8], ARGV[9], ARGV[10])
            redis.call('XDEL', ARGV[8], ARGV[10])
            return 'ok'
            """
    )

    /// Cancels a queued or running build (the admin API). ARGV: 2 id, 3 now ms, 4 error
    /// JSON, 5 log line, 6 log TTL s, 7 record TTL s. Returns the state it had. Its agent
    /// learns at its next heartbeat that it no longer owns the build and stops it; a queued
    /// entry is acknowledged by whichever agent receives it (the build is no longer queued).
    static let cancel = RedisScript(
        prelude + """
            local id, now = ARGV[2], ARGV[3]
            local state = redis.call('HGET', bkey(id), 'state')
            if state ~= 'queued' and state ~= 'running' then return state or '' end
            redis.call('HSET', bkey(id), 'state', 'cancelled', 'finished', now, 'error', ARGV[4])
            line(id, 'done', ARGV[5], now)
            finish(id, 'cancelled', ARGV[6], ARGV[7])
            return state
            """
    )

    /// Gives a running build back to the queue (agent shutting down): another agent's next
    /// reclaim takes it at once, ahead of newer jobs. ARGV: 2 id, 3 agent, 4 stream,
    /// 5 group, 6 entry, 7 now ms, 8 idle ms to set. Returns 'ok' or 'lost'.
    static let handBack = RedisScript(
        prelude + """
            local id, agent, stream, group, entry = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
            if not owned(id, agent) then return 'lost' end
            local b = bkey(id)
            redis.call('HSET', b, 'state', 'queued', 'worker', '')
            redis.call('SADD', p .. 'queued', id)
            redis.call('HINCRBY', b, 'attempts', -1)
            line(id, 'queued', 'agent ' .. agent .. ' is shutting down: the build goes back to the queue', ARGV[7])
            redis.call('XCLAIM', stream, group, agent, 0, entry, 'IDLE', ARGV[8], 'JUSTID')
            return 'ok'
            """
    )

    /// Renews the markers of every queued or running build, so a long queue never lets a
    /// second build of the same key start; forgets ids whose record is gone. ARGV: 2 marker
    /// TTL ms. Returns the number of builds kept.
    static let keepActive = RedisScript(
        prelude + """
            local ids = redis.call('HKEYS', p .. 'active')
            local kept = 0
            for _, id in ipairs(ids) do
              local state = redis.call('HGET', bkey(id), 'state')
              if state == 'queued' or state == 'running' then
                renew(id, ARGV[2])
                kept = kept + 1
              else
                redis.call('HDEL', p .. 'active', id)
              end
            end
            return kept
            """
    )
}
