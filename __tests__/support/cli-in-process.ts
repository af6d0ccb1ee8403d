/** The CLI's entry (src/cli-main.ts) run in this process, its output kept as written. */
import { Writable } from 'node:stream'
import { main } from '../../src/cli-main.js'

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk)
      done()
    }
  })
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') }
}

/** Runs `args` in `cwd` with only PATH in the environment. */
export async function runCliInProcess(
  args: string[],
  cwd = process.cwd()
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = collector()
  const stderr = collector()
  const code = await main(
    args,
    { PATH: process.env.PATH ?? '' },
    { stdout: stdout.stream, stderr: stderr.stream, cwd }
  )
  return { code, stdout: stdout.text(), stderr: stderr.text() }
}
