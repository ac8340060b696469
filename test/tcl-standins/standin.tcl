# Stand-in framework: Vitis HLS and Vivado commands as Tcl procs that check their options
# and arguments, record every call, and fail like the tools do on misuse. They check the
# STRUCTURE of the generated scripts (order of steps, names, options, connections), not
# what the real tools would compute.
#
# Every call is appended to the file named by STANDIN_LOG as one JSON array per line:
# ["command", "arg", ...]. Misuse is recorded as ["__error__", "message"] and raised as
# a Tcl error (so a script that catches it still leaves the record for the test).

proc standin_json_str {s} {
  set out "\""
  foreach ch [split $s ""] {
    scan $ch %c code
    if {$ch eq "\""} { append out "\\\"" } \
    elseif {$ch eq "\\"} { append out "\\\\" } \
    elseif {$code == 10} { append out "\\n" } \
    elseif {$code == 9} { append out "\\t" } \
    elseif {$code < 32} { append out [format "\\u%04x" $code] } \
    else { append out $ch }
  }
  append out "\""
  return $out
}

proc standin_record {words} {
  if {[standin_env STANDIN_LOG] eq ""} { return }
  set parts {}
  foreach w $words { lappend parts [standin_json_str $w] }
  set f [open $::env(STANDIN_LOG) a]
  puts $f "\[[join $parts ,]\]"
  close $f
}

proc standin_fail {msg} {
  standin_record [list __error__ $msg]
  puts stderr "STANDIN ERROR: $msg"
  error "standin: $msg"
}

# Parses `argv` of `cmd` against `spec`: a dict option -> flag | value | {one-of a b ...}.
# Options may also be written -opt=value. Returns a dict with key `opts` (option -> value,
# 1 for flags) and `pos` (positional words). Unknown options and wrong counts fail.
proc standin_parse {cmd spec minpos maxpos argv} {
  set opts [dict create]
  set pos {}
  set i 0
  set n [llength $argv]
  while {$i < $n} {
    set w [lindex $argv $i]
    if {[string match -* $w] && ![string is double -strict $w]} {
      set name $w
      set inline ""
      set has_inline 0
      set eq [string first = $w]
      if {$eq > 0} {
        set name [string range $w 0 [expr {$eq - 1}]]
        set inline [string range $w [expr {$eq + 1}] end]
        set has_inline 1
      }
      if {![dict exists $spec $name]} {
        standin_fail "$cmd: unknown option $name (known: [lsort [dict keys $spec]])"
      }
      set kind [dict get $spec $name]
      if {$kind eq "flag"} {
        if {$has_inline && $inline ni {true false 0 1}} { standin_fail "$cmd: $name takes true or false, not $inline" }
        dict set opts $name [expr {$has_inline ? $inline : 1}]
      } else {
        if {$has_inline} {
          set v $inline
        } else {
          incr i
          if {$i >= $n} { standin_fail "$cmd: option $name needs a value" }
          set v [lindex $argv $i]
        }
        if {$kind ne "value" && $v ni $kind} { standin_fail "$cmd: $name must be one of $kind, not $v" }
        dict set opts $name $v
      }
    } else {
      lappend pos $w
    }
    incr i
  }
  if {[llength $pos] < $minpos || ($maxpos >= 0 && [llength $pos] > $maxpos)} {
    standin_fail "$cmd: takes $minpos..$maxpos positional arguments, got [llength $pos]: $pos"
  }
  return [dict create opts $opts pos $pos]
}

# Defines `cmd` as a stand-in: the body sees `opts` (dict) and `pos` (list).
proc standin_define {cmd spec minpos maxpos body} {
  proc $cmd {args} [string map [list @CMD@ $cmd @SPEC@ [list $spec] @MIN@ $minpos @MAX@ $maxpos @BODY@ $body] {
    set parsed [standin_parse @CMD@ @SPEC@ @MIN@ @MAX@ $args]
    standin_record [concat [list @CMD@] $args]
    set opts [dict get $parsed opts]
    set pos [dict get $parsed pos]
    @BODY@
  }]
}

proc standin_opt {opts name {default ""}} {
  if {[dict exists $opts $name]} { return [dict get $opts $name] }
  return $default
}

proc standin_env {name {default ""}} {
  if {[info exists ::env($name)]} { return $::env($name) }
  return $default
}

# Runs a tool script the way the tools do: the script must end the tool itself with
# `exit` (vitis_hls -f and vivado -source would otherwise wait at their prompt).
proc standin_run_script {script} {
  if {[catch {uplevel #0 [list source $script]} err]} {
    puts stderr "STANDIN: script error: $err"
    standin_record [list __script_error__ $err]
    exit 1
  }
  standin_record [list __error__ "$script ended without calling exit: the real tool would stay at its prompt"]
  puts stderr "STANDIN ERROR: $script ended without calling exit"
  exit 3
}
