// kafkajs 2.2.4 groups the messages of a send by partition in quadratic time: each message copies the
// array of its partition so far (`[...current, message]` in src/producer/groupMessagesPerPartition.js;
// upstream pull request #1576, still open). A 1,000-message batch so allocates ~4 MB of short-lived
// arrays, and the producer's sender threads spent ~30 % of their time in garbage collection.
//
// Preloaded with `node --require` (the producer's sender threads: tasks/producer/senders.ts), this
// module puts a linear version with the same result in Node's CommonJS cache under the path of
// kafkajs' own module, so kafkajs' producer requires it instead. CommonJS, not TypeScript: a preload
// runs before any loader (and the threads run without tsx).
'use strict';
const Module = require('node:module');

/** Same contract and result as kafkajs': { [partition]: messages of that partition, in order }. */
function groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }) {
  const result = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

const file = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
const sendMessages = require.resolve('kafkajs/src/producer/sendMessages.js');
// kafkajs keeps the function it required at load: replacing it afterwards would change nothing.
if (require.cache[sendMessages]) {
  throw new Error('kafkajs-linear-grouping: kafkajs was loaded before this preload');
}
const cached = new Module(file, module);
cached.filename = file;
cached.loaded = true;
cached.exports = groupMessagesPerPartition;
require.cache[file] = cached;

module.exports = { groupMessagesPerPartition };
