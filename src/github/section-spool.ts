import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { ReportV1, RoleResult } from '../model.js'
import type { RoleSink } from '../pipeline/judge-roles.js'
import { LEAST_LEVEL, SMALLER_LEVELS, renderRoleSection, severity } from '../report/markdown.js'
import type { RoleSections } from '../report/markdown.js'

/** One detail level's sections: appended to a file, each found again by its offset and length. */
interface LevelFile {
  path: string
  fd: number
  end: number
  offsets: number[]
  bytes: number[]
  characters: number[]
  /** The sections' characters so far, with the blank lines between them. */
  total: number
}

/** Role sections spooled as the roles are judged; `close` removes the spool. */
interface SectionSpool {
  sink: RoleSink
  sections: RoleSections
  close(): void
}

/**
 * The role sections of the job summary, the sticky comment and the pull request body, rendered once as each role
 * is judged and appended to one file per detail level: the run keeps only their offsets and lengths, whatever the
 * number of roles. A level whose sections together exceed `maxLength` characters (the largest limit of any of those
 * texts) can be shown nowhere: its file is removed and it is no longer rendered. The least detailed level is kept
 * for every role (the most severe are chosen from it), and the smaller forms of the worst role so far in memory.
 */
export function spoolSections(parent: string, maxLength: number): SectionSpool {
  mkdirSync(parent, { recursive: true })
  const dir = mkdtempSync(join(parent, 'iam-least-privilege-sections-'))
  const levels: (LevelFile | undefined)[] = Array.from({ length: LEAST_LEVEL + 1 }, (_, level) => {
    const path = join(dir, `level-${level}.md`)
    return { path, fd: openSync(path, 'w+'), end: 0, offsets: [], bytes: [], characters: [], total: 0 }
  })
  let source: ReportV1['source'] = 'access-analyzer'
  let count = 0
  let worst: { index: number; severity: number; sections: string[] } | undefined

  const drop = (level: number) => {
    const file = levels[level]
    if (!file) return
    closeSync(file.fd)
    rmSync(file.path, { force: true })
    levels[level] = undefined
  }
  const spooled = (index: number, level: number) => {
    const file = levels[level]
    const offset = file?.offsets[index]
    const bytes = file?.bytes[index]
    const characters = file?.characters[index]
    if (!file || offset === undefined || bytes === undefined || characters === undefined)
      throw new Error(`internal: the section of role ${index} at level ${level} was not kept`)
    return { file, offset, bytes, characters }
  }
  const worstSection = (index: number, level: number) => {
    const text = worst?.index === index ? worst.sections[SMALLER_LEVELS.indexOf(level)] : undefined
    if (text === undefined) throw new Error(`internal: role ${index} is not the worst role`)
    return text
  }

  const sink: RoleSink = {
    begin(head) {
      source = head.source
    },
    role(role: RoleResult) {
      const index = count++
      for (const [level, file] of levels.entries()) {
        if (!file) continue
        const text = renderRoleSection(role, source, level)
        const data = Buffer.from(text, 'utf8')
        writeSync(file.fd, data, 0, data.length, file.end)
        file.offsets.push(file.end)
        file.bytes.push(data.length)
        file.characters.push(text.length)
        file.end += data.length
        file.total += text.length + 2
        if (level < LEAST_LEVEL && file.total > maxLength) drop(level)
      }
      const rank = severity(role)
      if (!worst || rank > worst.severity)
        worst = {
          index,
          severity: rank,
          sections: SMALLER_LEVELS.map(level => renderRoleSection(role, source, level))
        }
    }
  }
  const sections: RoleSections = {
    holds: level => levels[level] !== undefined,
    length(index, level, unit) {
      if (SMALLER_LEVELS.includes(level)) {
        const text = worstSection(index, level)
        return unit === 'utf8-bytes' ? Buffer.byteLength(text) : text.length
      }
      const { bytes, characters } = spooled(index, level)
      return unit === 'utf8-bytes' ? bytes : characters
    },
    text(index, level) {
      if (SMALLER_LEVELS.includes(level)) return worstSection(index, level)
      const { file, offset, bytes } = spooled(index, level)
      const data = Buffer.alloc(bytes)
      readSync(file.fd, data, 0, bytes, offset)
      return data.toString('utf8')
    }
  }
  return {
    sink,
    sections,
    close() {
      for (const level of levels.keys()) drop(level)
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
