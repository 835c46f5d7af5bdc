#!/usr/bin/perl
# Imports an mbox into a v1 public-inbox with public-inbox's own importer (PublicInbox::Import,
# git fast-import), for the import benchmark; public-inbox-index then indexes it.
# Usage: public_inbox_import.pl INBOX_GIT_DIR MBOX
use strict;
use warnings;
use PublicInbox::Git;
use PublicInbox::Import;
use PublicInbox::MboxReader;

my ($git_dir, $mbox) = @ARGV;
my $git = PublicInbox::Git->new($git_dir);
my $importer = PublicInbox::Import->new($git, 'bench', 'bench@example.org');
open(my $fh, '<', $mbox) or die "open $mbox: $!";
my $count = 0;
PublicInbox::MboxReader->mboxrd($fh, sub {
    my ($eml) = @_;
    $importer->add($eml);
    $count++;
});
$importer->done;
print "imported $count\n";
