import { main } from './cli-main.js'
import { errorMessage } from './error-message.js'

main(process.argv.slice(2)).then(
  code => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`error: ${errorMessage(error)}\n`)
    process.exitCode = 1
  }
)
