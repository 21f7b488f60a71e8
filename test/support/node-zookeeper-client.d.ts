// node-zookeeper-client ships no type declarations; the tests use it untyped.
declare module 'node-zookeeper-client';
