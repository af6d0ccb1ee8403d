/**
 * A reducer thread: reduces the files posted to it, answering each with its outcome in the order they came, and
 * sends its tally once, when asked. Runs from the generated source in worker-source.generated.ts.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { ThreadReducer } from './reduce-file.js'
import type { ReducerConfig, WorkerReply, WorkerRequest } from './reduce-file.js'

const port = parentPort
if (port) {
  const reducer = new ThreadReducer(workerData as ReducerConfig)
  const reply = (message: WorkerReply): void => port.postMessage(message)
  // Streamed files finish asynchronously: the queue keeps answers in the order the requests came.
  let queue = Promise.resolve()
  port.on('message', (request: WorkerRequest) => {
    queue = queue.then(async () => {
      if ('task' in request) reply(await reducer.reduceFile(request.task))
      else reply({ tally: reducer.collect().toReduced() })
    })
  })
}
