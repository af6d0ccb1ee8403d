// The bundled Terraform reader on a real file: prints each role's address and its policies' documents.
import { readFileSync } from 'node:fs'
import { terraformReader } from '../src/iac/terraform/reader.js'

const path = process.argv[2] ?? ''
const reading = await terraformReader.read([{ path, text: readFileSync(path, 'utf8') }])
console.log(JSON.stringify(reading.roles.map(r => [r.location.address, r.policies.map(p => p.document)])))
