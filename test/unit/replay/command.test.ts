import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseBrokers, runReplayCommand } from '../../../src/replay/command.ts'
import { FLIGHTS_2K } from './truth.ts'

// Every case fails argument validation before any connection is opened.
const base = { file: FLIGHTS_2K, pipeline: 'flights', brokers: '127.0.0.1:1' }

describe('runReplayCommand arguments', () => {
  it('rejects bad numbers with the flag name and the value given', async () => {
    await assert.rejects(runReplayCommand({ ...base, batch: 'x' }), { code: 'BAD_REQUEST', message: '--batch must be a positive integer, got "x"' })
    await assert.rejects(runReplayCommand({ ...base, batch: 0 }), { code: 'BAD_REQUEST', message: '--batch must be a positive integer, got "0"' })
    await assert.rejects(runReplayCommand({ ...base, limit: '-3' }), { code: 'BAD_REQUEST', message: '--limit must be a non-negative integer, got "-3"' })
    await assert.rejects(runReplayCommand({ ...base, skip: '1.5' }), { code: 'BAD_REQUEST', message: '--skip must be a non-negative integer, got "1.5"' })
    await assert.rejects(runReplayCommand({ ...base, rate: '0' }), { code: 'BAD_REQUEST', message: '--rate must be a positive number of records per second, got "0"' })
  })

  it('requires a pipeline and a usable file before contacting Kafka', async () => {
    await assert.rejects(runReplayCommand({ ...base, pipeline: '' }), { code: 'BAD_REQUEST', message: '--pipeline is required: the name of the pipeline whose topic receives the records' })
    await assert.rejects(runReplayCommand({ ...base, file: 'flights.csv' }), { code: 'BAD_REQUEST' })
    await assert.rejects(runReplayCommand({ ...base, file: '/nonexistent/flights.parquet' }), { code: 'NOT_FOUND', message: 'cannot replay "/nonexistent/flights.parquet": no such file' })
  })
})

describe('parseBrokers', () => {
  it('splits a comma-separated host:port list and rejects entries without a port', () => {
    assert.deepEqual(parseBrokers('127.0.0.1:9092, kafka:9093,'), ['127.0.0.1:9092', 'kafka:9093'])
    assert.throws(() => parseBrokers(' , '), { message: '--brokers must list at least one host:port' })
    assert.throws(() => parseBrokers('localhost'), { message: '--brokers: "localhost" is not host:port (e.g. 127.0.0.1:9092)' })
  })
})
