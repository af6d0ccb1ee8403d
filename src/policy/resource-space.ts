/**
 * Questions about sets of resource strings described by IAM globs: is there a string that matches every pattern of
 * one list and no pattern of another? Answered exactly by walking the product of the patterns' automata (a glob is
 * a small NFA; `*` loops, `?` takes any character), over the literal characters the patterns name plus one more
 * that none of them names.
 */
import { at } from './at.js'

type Positions = number[]

/**
 * In a pattern, a run of any characters but `:` (what an ARN template's partition, Region or account placeholder
 * stands for). Not a character IAM patterns can hold.
 */
export const SEGMENT = '\u0001'
/** In a pattern, a run of any characters but `:` and `/` (a name that AWS naming rules keep free of both). */
export const NAME = '\u0002'
const isLoop = (p: string | undefined) => p === '*' || p === SEGMENT || p === NAME

interface Glob {
  pattern: string
  /** True at i when pattern[i..] is one or more `*`: every continuation matches. */
  starTail: boolean[]
}

function compile(pattern: string): Glob {
  const starTail = new Array<boolean>(pattern.length + 1).fill(false)
  for (let i = pattern.length - 1; i >= 0 && pattern[i] === '*'; i--) starTail[i] = true
  return { pattern, starTail }
}

function closure(glob: Glob, positions: Iterable<number>): Positions {
  const out = new Set<number>()
  for (let i of positions) {
    out.add(i)
    while (isLoop(glob.pattern[i])) out.add(++i)
  }
  return [...out].sort((a, b) => a - b)
}

function step(glob: Glob, positions: Positions, c: string): Positions {
  const next: number[] = []
  for (const i of positions) {
    const p = glob.pattern[i]
    if (p === undefined) continue
    if (p === '*' || (p === SEGMENT && c !== ':') || (p === NAME && c !== ':' && c !== '/')) next.push(i)
    else if (p === '?' || p === c) next.push(i + 1)
  }
  return next.length === 0 ? next : closure(glob, next)
}

const accepts = (glob: Glob, positions: Positions) => positions.includes(glob.pattern.length)
const acceptsEverything = (glob: Glob, positions: Positions) => positions.some(i => glob.starTail[i])

const isWildcard = (c: string) => c === '*' || c === '?' || c === SEGMENT || c === NAME

/** The text before a pattern's first wildcard. */
function literalPrefix(pattern: string): string {
  let cut = 0
  while (cut < pattern.length && !isWildcard(pattern.charAt(cut))) cut++
  return pattern.slice(0, cut)
}

/** False when two patterns' literal beginnings differ: nothing can match both (a shortcut, not a full check). */
export function prefixesAgree(patterns: readonly string[]): boolean {
  let longest = ''
  for (const prefix of patterns.map(literalPrefix)) {
    const n = Math.min(prefix.length, longest.length)
    if (prefix.slice(0, n) !== longest.slice(0, n)) return false
    if (prefix.length > longest.length) longest = prefix
  }
  return true
}

/** Walks at most this many product states; past it the answer is "yes" (callers treat a yes as the safe side). */
const MAX_STATES = 50_000

/**
 * A string matched by every pattern of `must` and by none of `mustNot` (IAM globs, case-sensitive), or undefined
 * when there is none. With an empty `must`, any string qualifies.
 */
export function findResource(must: readonly string[], mustNot: readonly string[]): string | undefined {
  if (!prefixesAgree(must)) return undefined
  // A mustNot pattern whose beginning no must pattern shares cannot match the string we look for.
  const relevant = must.length === 0 ? mustNot : mustNot.filter(p => prefixesAgree([...must, p]))
  if (relevant.length === 0 && must.length <= 1) {
    return [...(must[0] ?? '')].map(c => (isWildcard(c) ? 'x' : c)).join('')
  }
  const pos = must.map(compile)
  const neg = relevant.map(compile)
  const alphabet = new Set<string>()
  for (const g of [...pos, ...neg])
    for (const c of g.pattern) if (c !== '*' && c !== '?' && c !== SEGMENT && c !== NAME) alphabet.add(c)
  let fresh = 'x'
  for (const candidate of 'x~#_0Z') {
    if (!alphabet.has(candidate)) {
      fresh = candidate
      break
    }
  }
  alphabet.add(fresh)
  alphabet.add(':')
  alphabet.add('/')
  const letters = [...alphabet]
  type State = { pos: Positions[]; neg: Positions[]; text: string }
  const start: State = {
    pos: pos.map(g => closure(g, [0])),
    neg: neg.map(g => closure(g, [0])),
    text: ''
  }
  const seen = new Set<string>()
  const queue: State[] = []
  const visit = (state: State) => {
    if (state.pos.some(p => p.length === 0)) return
    if (state.neg.some((p, i) => acceptsEverything(at(neg, i), p))) return
    const key = `${state.pos.map(p => p.join(',')).join('|')}/${state.neg.map(p => p.join(',')).join('|')}`
    if (seen.has(key)) return
    seen.add(key)
    queue.push(state)
  }
  visit(start)
  // The queue grows while it is walked: breadth first.
  for (const state of queue) {
    if (seen.size > MAX_STATES) return state.text
    if (
      state.pos.every((p, i) => accepts(at(pos, i), p)) &&
      !state.neg.some((p, i) => accepts(at(neg, i), p))
    ) {
      return state.text
    }
    for (const c of letters) {
      visit({
        pos: state.pos.map((p, i) => step(at(pos, i), p, c)),
        neg: state.neg.map((p, i) => step(at(neg, i), p, c)),
        text: state.text + c
      })
    }
  }
  return undefined
}
