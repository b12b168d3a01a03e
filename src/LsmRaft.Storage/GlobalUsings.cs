// The engine's Version (a set of live tables) shadows System.Version everywhere in this assembly.
global using Version = LsmRaft.Storage.Versions.Version;
global using LsmRaft.Shared;
