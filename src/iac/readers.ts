/** Every infrastructure-code language the tool reads. */
import { cloudFormationReader } from './cloudformation/reader.js'
import type { IacReader } from './model.js'
import { terraformReader } from './terraform/reader.js'

export const IAC_READERS: readonly IacReader[] = [terraformReader, cloudFormationReader]
