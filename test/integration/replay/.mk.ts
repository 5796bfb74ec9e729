import { Kafka, logLevel } from 'kafkajs'
const admin = new Kafka({ clientId: 'x', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING }).admin()
await admin.connect()
if (process.argv[2] === 'create') await admin.createTopics({ topics: [{ topic: process.argv[3]!, numPartitions: 2 }], waitForLeaders: true })
else await admin.deleteTopics({ topics: [process.argv[3]!] })
await admin.disconnect()
