/**
 * Scheduled pull-request-mode runs of the action's entry in process, day after day: the AWS emulator and the runs share
 * one emulated clock (a run's sleeps advance it; nothing sleeps for real), and the GitHub emulator keeps the proposals
 * branch, with the judged-roles state on it, from one run to the next.
 */
import { AwsEmulator } from './aws-emulator.js'
import { GitHubEmulator } from './github-emulator.js'
import { runActionInProcess } from './action-in-process.js'
import type { ActionRun } from './run-action.js'

export const DAY = 24 * 3600 * 1000
export const PROPOSALS_BRANCH = 'iam-least-privilege/proposals'

export class ScheduledRuns {
  /** The emulated time, in ms since the epoch. */
  clock: number
  /** Called after each sleep of a run: what another workflow does while this run waits. */
  onSleep: (() => void) | undefined
  readonly aws: AwsEmulator

  private constructor(
    readonly github: GitHubEmulator,
    start: number,
    dailyQuota: number | undefined
  ) {
    this.clock = start
    // Each policy generation is IN_PROGRESS for one poll.
    this.aws = new AwsEmulator({
      seed: false,
      now: () => this.clock,
      pollsInProgress: 1,
      ...(dailyQuota === undefined ? {} : { dailyQuota })
    })
  }

  /** Starts both emulators, the clock at `start`; `dailyQuota`: policy generations AWS starts a day (default 50). */
  static async start(start: number, dailyQuota?: number): Promise<ScheduledRuns> {
    const github = await GitHubEmulator.start({ owner: 'octo-org', repo: 'infra' })
    const runs = new ScheduledRuns(github, start, dailyQuota)
    await runs.aws.start()
    return runs
  }

  async stop(): Promise<void> {
    await this.aws.stop()
    await this.github.close()
  }

  /**
   * A role named `name` whose one inline policy allows `granted` on every resource, and whose generated policy (the
   * use Access Analyzer finds) is s3:ListAllMyBuckets alone.
   */
  addListBucketsRole(name: string, granted: readonly string[]): void {
    this.aws.addRole({
      name,
      inline: {
        app: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: granted, Resource: '*' }] }
      },
      generation: { actions: [{ action: 's3:ListAllMyBuckets' }], isComplete: true }
    })
  }

  /** One pull-request-mode run of the roles `app-*` at the current emulated time; `inputs` add to or override it. */
  run(inputs: Record<string, string>): Promise<ActionRun> {
    const { AWS_REGION: _region, ...awsEnv } = this.aws.env()
    return runActionInProcess({
      inputs: {
        roles: 'app-*',
        'aws-region': 'us-east-1',
        'trail-arn': `arn:aws:cloudtrail:us-east-1:${this.aws.accountId}:trail/management`,
        'access-role-arn': `arn:aws:iam::${this.aws.accountId}:role/service-role/AccessAnalyzerMonitorServiceRole`,
        'github-token': 'ghs_emulated_token',
        mode: 'pull-request',
        ...inputs
      },
      env: { ...awsEnv, GITHUB_API_URL: this.github.url },
      clock: {
        now: () => new Date(this.clock),
        sleep: ms => {
          this.clock += ms
          this.onSleep?.()
          return Promise.resolve()
        }
      }
    })
  }
}
