/**
 * The per-file reducer, kept as JavaScript source text.
 *
 * Why a string: the engine runs bundled by ncc into single files, under ts-jest and under tsx. A worker script
 * path exists in only one of those worlds, and `fn.toString()` of a compiled function breaks when a tool injects
 * helpers into function bodies (coverage counters, esbuild's `__name`). Source text started with
 * `new Worker(source, { eval: true })` runs the same everywhere; the in-thread fallback evaluates the same text.
 *
 * The reducer turns one log file into compact aggregates: it decompresses (gzip by magic bytes), parses the three
 * shapes real exports come in, filters by role and time window, and counts calls per
 * (role, eventSource, eventName, eventType, errorCode, denied-by-message, data event) with the resource ARNs seen.
 * It maps nothing to IAM actions: that needs the catalog and happens once, on the merged aggregates.
 *
 * Written with `String.raw` and without template placeholders so the text is exactly what runs.
 */
export const REDUCER_SOURCE = String.raw`(function createReducer(zlib, fs) {
  var SEP = '\u0001'
  var deniedPattern = null

  var MIB = 1024 * 1024

  function mib(bytes) {
    return bytes >= MIB ? Math.round(bytes / MIB) + ' MiB' : Math.ceil(bytes / 1024) + ' KiB'
  }

  function isGzip(bytes) {
    return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
  }

  // A file that inflates past this many bytes is a decompression bomb (or too large to hold whole): it is skipped.
  function inflateCap(compressed, config) {
    return Math.max(config.inflateRatioFloorBytes, config.maxInflateRatio * compressed)
  }

  function bombError(inflated, compressed, config) {
    return new Error(
      'skipped: inflates past ' + mib(inflated) + ' from ' + mib(compressed) + ' (more than ' + config.maxInflateRatio +
        ' times its compressed size, or past ' + mib(config.maxWholeBytes) + ' held whole); a CloudTrail log file never does'
    )
  }

  function decode(bytes, config) {
    if (isGzip(bytes)) {
      var cap = Math.min(config.maxWholeBytes, inflateCap(bytes.length, config))
      try {
        bytes = zlib.gunzipSync(bytes, { maxOutputLength: cap })
      } catch (e) {
        if (e && e.code === 'ERR_BUFFER_TOO_LARGE') throw bombError(cap, bytes.length, config)
        throw new Error('corrupt gzip: ' + e.message)
      }
    } else if (bytes.length > config.maxWholeBytes) {
      throw new Error('skipped: larger than ' + mib(config.maxWholeBytes) + ', too large to parse whole')
    }
    var text = bytes.toString('utf8')
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  }

  function firstChar(text) {
    var m = /\S/.exec(text.length > 4096 ? text.slice(0, 4096) : text)
    return m ? m[0] : ''
  }

  // Returns { records, badLines }. Shapes: {"Records":[...]}, a JSON array, one JSON object per line
  // (a line may itself be a {"Records":[...]} batch, as some shippers write).
  function parseRecords(text, config) {
    var c = firstChar(text)
    if (c === '') return { records: [], badLines: 0, longLines: 0 }
    if (c === '[') {
      var arr
      try {
        arr = JSON.parse(text)
      } catch (e) {
        throw new Error('invalid JSON: ' + e.message)
      }
      if (!Array.isArray(arr)) throw new Error('invalid JSON: not an array of events')
      return { records: arr, badLines: 0, longLines: 0 }
    }
    if (c !== '{') throw new Error('not CloudTrail JSON: starts with ' + JSON.stringify(c))
    var whole
    var wholeError
    try {
      whole = JSON.parse(text)
    } catch (e) {
      wholeError = e
    }
    if (whole !== undefined) {
      if (Array.isArray(whole.Records)) return { records: whole.Records, badLines: 0, longLines: 0 }
      if (whole.Records !== undefined) throw new Error('not CloudTrail JSON: "Records" is not an array')
      return { records: [whole], badLines: 0, longLines: 0 }
    }
    var lines = text.split('\n')
    var records = []
    var bad = 0
    var long = 0
    var good = 0
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i]
      if (line.length > config.maxLineLength) {
        long++
        continue
      }
      if (!/\S/.test(line)) continue
      var v
      try {
        v = JSON.parse(line)
      } catch (e) {
        bad++
        continue
      }
      good++
      if (v !== null && typeof v === 'object' && Array.isArray(v.Records)) {
        for (var j = 0; j < v.Records.length; j++) records.push(v.Records[j])
      } else {
        records.push(v)
      }
    }
    if (good === 0 && long === 0) throw new Error('invalid JSON: ' + wholeError.message)
    return { records: records, badLines: bad, longLines: long }
  }

  // Log shippers wrap or rename fields: EventBridge puts the event under "detail"; Elastic-style exports
  // carry "@timestamp" instead of "eventTime".
  function unwrap(r) {
    if (r !== null && typeof r === 'object' && r.detail !== null && typeof r.detail === 'object' && r.detail.eventSource) {
      return r.detail
    }
    return r
  }

  function timeOf(r) {
    var t = r.eventTime
    if (t === undefined || t === null) t = r['@timestamp']
    if (t === undefined || t === null) t = r.timestamp
    // Shippers write epoch numbers in seconds or in milliseconds; seconds stay below 1e11 until the year 5138.
    // A number past what a Date can hold (8.64e15 ms either side of 1970) is no time at all.
    if (typeof t === 'number') return inDateRange(t < 1e11 ? t * 1000 : t)
    if (typeof t !== 'string') return NaN
    return Date.parse(t)
  }

  function inDateRange(ms) {
    return ms >= -8.64e15 && ms <= 8.64e15 ? ms : NaN
  }

  function roleOf(r) {
    var ui = r.userIdentity
    if (!ui) return undefined
    var si = ui.sessionContext && ui.sessionContext.sessionIssuer
    if (si && typeof si.arn === 'string') return si.arn.indexOf(':role/') < 0 ? undefined : si
    // Some records of an assumed role carry no session issuer: the session ARN still names the role and its
    // account (role names are unique per account; the path is resolved against the other records later).
    if (ui.type !== 'AssumedRole' || typeof ui.arn !== 'string') return undefined
    var m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(ui.arn)
    if (!m) return undefined
    return { arn: 'arn:' + m[1] + ':iam::' + m[2] + ':role/' + m[3], userName: m[3], pathUnknown: true }
  }

  function nameOfRole(si) {
    if (typeof si.userName === 'string' && si.userName) return si.userName
    return si.arn.slice(si.arn.lastIndexOf('/') + 1)
  }

  function resourcesOf(r, roleArn, out) {
    var list = r.resources
    if (Array.isArray(list)) {
      for (var i = 0; i < list.length; i++) {
        var res = list[i]
        var arn = res && (res.ARN || res.arn)
        if (typeof arn === 'string' && arn.indexOf('arn:') === 0) out.push(arn)
      }
    }
    // S3 names its bucket and key in the request; the ARN follows from them with certainty.
    var rp = r.requestParameters
    if (r.eventSource === 's3.amazonaws.com' && rp && typeof rp.bucketName === 'string' && rp.bucketName) {
      var partition = roleArn.split(':')[1] || 'aws'
      var bucket = 'arn:' + partition + ':s3:::' + rp.bucketName
      if (typeof rp.key === 'string' && rp.key) out.push(bucket + '/' + rp.key)
      else out.push(bucket)
    }
  }

  function isDataEvent(r) {
    return r.eventCategory === 'Data' || r.managementEvent === false
  }

  function reduceRecords(records, config, acc) {
    var since = config.since === null ? -Infinity : config.since
    var until = config.until === null ? Infinity : config.until
    if (deniedPattern === null || deniedPattern.source !== config.deniedMessagePattern) {
      deniedPattern = new RegExp(config.deniedMessagePattern, 'i')
    }
    var deniedMessage = deniedPattern
    for (var i = 0; i < records.length; i++) {
      var r = unwrap(records[i])
      // Every CloudTrail event names its API call; anything else (another log format, a config file) is not one.
      if (r === null || typeof r !== 'object' || typeof r.eventName !== 'string') {
        acc.notEvents++
        continue
      }
      acc.events++
      var t = timeOf(r)
      var outside = false
      if (t !== t) {
        acc.undated++
        outside = config.since !== null || config.until !== null
      } else {
        if (t < acc.firstTime) acc.firstTime = t
        if (t > acc.lastTime) acc.lastTime = t
        outside = t < since || t > until
        if (!outside && t < acc.minTime) acc.minTime = t
        if (!outside && t > acc.maxTime) acc.maxTime = t
      }
      // What the trail logs, from every principal's records: management events of the sources a trail can exclude,
      // and of each read-only half.
      if (!isDataEvent(r) && r.eventType !== 'AwsServiceEvent') {
        if (r.eventSource === 'kms.amazonaws.com' || r.eventSource === 'rdsdata.amazonaws.com') acc.management[r.eventSource] = true
        if (r.readOnly === true) acc.management.read = true
        else if (r.readOnly === false) acc.management.write = true
      }
      var si = roleOf(r)
      if (!si) continue
      var roleArn = si.arn
      // A role active only outside since/until is still a role of these records: it has no activity in the window.
      acc.rolesSeen.add(roleArn)
      if (outside) continue
      if (!config.allRoles) {
        var lowerArn = roleArn.toLowerCase()
        var lowerName = nameOfRole(si).toLowerCase()
        var account = roleArn.split(':')[4]
        var byArn = config.roleArns.indexOf(lowerArn) >= 0 || (si.pathUnknown && config.roleArns.some(function (a) {
          return a.split(':')[4] === account && a.slice(a.lastIndexOf('/') + 1) === lowerName
        }))
        if (!byArn && config.roleNames.indexOf(lowerName) < 0) continue
      }
      var errorCode = typeof r.errorCode === 'string' ? r.errorCode : ''
      // A denial message that names another service's action (a Lambda Invoke failing on kms:Decrypt) means this
      // call itself was authorized.
      var msgDenied = '0'
      if (errorCode && typeof r.errorMessage === 'string' && deniedMessage.test(r.errorMessage)) {
        var named = /perform:\s*([a-z0-9-]+):/i.exec(r.errorMessage)
        var own = String(r.eventSource).split('.')[0].toLowerCase()
        msgDenied = !named || named[1].toLowerCase() === own ? '1' : '0'
      }
      var key =
        roleArn + SEP + String(r.eventSource) + SEP + String(r.eventName) + SEP + String(r.eventType || '') + SEP +
        errorCode + SEP + msgDenied + SEP + (isDataEvent(r) ? '1' : '0')
      var entry = acc.entries.get(key)
      if (!entry) {
        entry = { count: 0, resources: new Set(), unknownResource: false, overflow: false }
        acc.entries.set(key, entry)
      }
      entry.count++
      var found = []
      resourcesOf(r, roleArn, found)
      if (found.length === 0) entry.unknownResource = true
      for (var k = 0; k < found.length && !entry.overflow; k++) {
        entry.resources.add(found[k])
        if (entry.resources.size > config.maxResources) {
          entry.overflow = true
          entry.resources.clear()
        }
      }
    }
  }

  function newAcc() {
    return {
      events: 0, notEvents: 0, undated: 0, minTime: Infinity, maxTime: -Infinity, firstTime: Infinity,
      lastTime: -Infinity, rolesSeen: new Set(), entries: new Map(), management: {}
    }
  }

  function result(file, acc, badLines, longLines) {
    if (acc.events === 0 && acc.notEvents > 0) {
      return failure(file, new Error(
        'not CloudTrail JSON: none of its ' + acc.notEvents + ' records has an "eventName" (no "Records" of CloudTrail events)'
      ))
    }
    var entries = []
    acc.entries.forEach(function (v, k) {
      var p = k.split(SEP)
      entries.push({
        roleArn: p[0], eventSource: p[1], eventName: p[2], eventType: p[3], errorCode: p[4],
        deniedByMessage: p[5] === '1', dataEvent: p[6] === '1',
        count: v.count, resources: Array.from(v.resources), unknownResource: v.unknownResource, overflow: v.overflow
      })
    })
    return {
      file: file, events: acc.events, notEvents: acc.notEvents, undated: acc.undated, badLines: badLines,
      longLines: longLines,
      minTime: acc.minTime === Infinity ? null : acc.minTime,
      maxTime: acc.maxTime === -Infinity ? null : acc.maxTime,
      firstTime: acc.firstTime === Infinity ? null : acc.firstTime,
      lastTime: acc.lastTime === -Infinity ? null : acc.lastTime,
      rolesSeen: Array.from(acc.rolesSeen), entries: entries,
      managementSeen: Object.keys(acc.management).sort()
    }
  }

  function failure(file, e) {
    return { file: file, error: e && e.message ? e.message : String(e) }
  }

  // Large files, anything that is not a regular file (a pipe given as cloudtrail-path) and gzip that may inflate
  // past maxWholeBytes are read as a stream, so a JSON-lines export of any size needs memory for one line at a time.
  // Gzip is found by its magic bytes in the first chunk. A file whose first line is not a whole JSON value ({"Records":[...]} or an array spread over lines)
  // has to be parsed whole, as small files are, up to maxWholeBytes.
  function reduceStream(task, config, bytes) {
    return new Promise(function (resolve) {
      var acc = newAcc()
      var bad = 0
      var long = 0
      var mode = null
      var pending = ''
      var skippingLine = false
      var whole = []
      var wholeLength = 0
      var compressed = 0
      var inflated = 0
      var sniffed = false
      var gunzip = null
      var decoder = new TextDecoder('utf-8')
      var raw = null
      var finished = false
      function finish(value) {
        if (finished) return
        finished = true
        if (raw) raw.destroy()
        if (gunzip) gunzip.destroy()
        resolve(value)
      }
      function fail(e) {
        finish(failure(task.file, e))
      }
      function line(text) {
        if (text.length > config.maxLineLength) {
          long++
          return
        }
        if (!/\S/.test(text)) return
        var v
        try {
          v = JSON.parse(text)
        } catch (e) {
          bad++
          return
        }
        reduceRecords(v !== null && typeof v === 'object' && Array.isArray(v.Records) ? v.Records : [v], config, acc)
      }
      function keepWhole(text) {
        mode = 'whole'
        wholeLength += text.length
        if (wholeLength > config.maxWholeBytes) {
          throw new Error('skipped: larger than ' + mib(config.maxWholeBytes) + ' and not one JSON object per line')
        }
        whole.push(text)
      }
      function take(text) {
        if (mode === 'whole') return keepWhole(text)
        if (skippingLine) {
          var end = text.indexOf('\n')
          if (end < 0) return
          skippingLine = false
          text = text.slice(end + 1)
        }
        pending += text
        if (mode === null) {
          var nl = pending.indexOf('\n')
          var first = nl < 0 ? null : pending.slice(0, nl)
          if (first === null && pending.length <= config.maxLineLength) return
          try {
            if (first === null) throw new Error('no line end')
            JSON.parse(first)
            mode = 'lines'
          } catch (e) {
            var all = pending
            pending = ''
            return keepWhole(all)
          }
        }
        // Split only when a line ended: splitting a long line's growing text on every chunk took quadratic time.
        if (text.indexOf('\n') >= 0) {
          var lines = pending.split('\n')
          pending = lines.pop()
          for (var i = 0; i < lines.length; i++) line(lines[i])
        }
        if (pending.length > config.maxLineLength) {
          long++
          pending = ''
          skippingLine = true
        }
      }
      function guarded(fn) {
        return function (arg) {
          if (finished) return
          try {
            fn(arg)
          } catch (e) {
            fail(e)
          }
        }
      }
      var done = guarded(function () {
        take(decoder.decode())
        // One line and no line end: a {"Records":[...]} file on a single line, held whole like any other.
        if (mode === null) {
          var rest = pending
          pending = ''
          keepWhole(rest)
        }
        if (mode === 'whole') {
          var parsed = parseRecords(whole.join(''), config)
          whole = null
          reduceRecords(parsed.records, config, acc)
          finish(result(task.file, acc, parsed.badLines, parsed.longLines))
          return
        }
        if (!skippingLine) line(pending)
        finish(result(task.file, acc, bad, long))
      })
      var onData = guarded(function (chunk) {
        compressed += chunk.length
        if (!sniffed) {
          sniffed = true
          if (isGzip(chunk)) {
            gunzip = zlib.createGunzip()
            gunzip.on('error', guarded(function (e) {
              throw new Error('corrupt gzip: ' + e.message)
            }))
            gunzip.on('data', guarded(function (out) {
              inflated += out.length
              if (inflated > inflateCap(compressed, config)) throw bombError(inflated, compressed, config)
              take(decoder.decode(out, { stream: true }))
            }))
            gunzip.on('end', done)
          }
        }
        if (!gunzip) return take(decoder.decode(chunk, { stream: true }))
        if (!gunzip.write(chunk) && raw) {
          raw.pause()
          gunzip.once('drain', function () {
            raw.resume()
          })
        }
      })
      var onEnd = guarded(function () {
        if (gunzip) gunzip.end()
        else done()
      })
      // Bytes already in memory (a fetched object) are fed whole: only the inflated text is taken a line at a time.
      if (bytes) {
        Promise.resolve().then(function () {
          onData(bytes)
          onEnd()
        })
        return
      }
      try {
        raw = fs.createReadStream(task.path)
      } catch (e) {
        fail(e)
        return
      }
      raw.on('error', guarded(fail))
      raw.on('data', onData)
      raw.on('end', onEnd)
    })
  }

  // task: { file, path?, bytes? }; config: see ReducerConfig in reducer.ts. Always answers, never throws.
  function reduceFile(task, config) {
    try {
      if (task.path) {
        var info = fs.statSync(task.path)
        if (!info.isFile() || info.size > config.streamFromBytes) return reduceStream(task, config)
      }
      var bytes = task.bytes ? Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength) : fs.readFileSync(task.path)
      // Gzip that may inflate past what can be held whole (a compressed JSON-lines export) is inflated as a stream.
      if (isGzip(bytes) && bytes.length * config.maxInflateRatio > config.maxWholeBytes) {
        return reduceStream(task, config, bytes)
      }
      var parsed = parseRecords(decode(bytes, config), config)
      var acc = newAcc()
      reduceRecords(parsed.records, config, acc)
      return Promise.resolve(result(task.file, acc, parsed.badLines, parsed.longLines))
    } catch (e) {
      return Promise.resolve(failure(task.file, e))
    }
  }

  return { reduceFile: reduceFile }
})`

/** The worker: builds the reducer once, then answers one message per file, in order. */
export const WORKER_SOURCE =
  "var wt = require('node:worker_threads')\n" +
  'var reducer = ' +
  REDUCER_SOURCE +
  "(require('node:zlib'), require('node:fs'))\n" +
  'var queue = Promise.resolve()\n' +
  // Answers must leave in the order the files came: streamed files finish asynchronously.
  "wt.parentPort.on('message', function (msg) {\n" +
  '  queue = queue.then(function () { return reducer.reduceFile(msg.task, wt.workerData) })\n' +
  '    .then(function (outcome) { wt.parentPort.postMessage(outcome) })\n' +
  '})\n'
