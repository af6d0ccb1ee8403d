/** Every infrastructure-code language the tool reads. */
import { cloudFormationReader } from './cloudformation/reader.js'
import type { IacReader } from './model.js'

export const IAC_READERS: readonly IacReader[] = [cloudFormationReader]
