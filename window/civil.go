package window

// Calendar arithmetic on days since 1970-01-01 in the proleptic Gregorian
// calendar, after Howard Hinnant's "chrono-Compatible Low-Level Date
// Algorithms" (civil_from_days / days_from_civil). They are branch-light
// integer code: a month or year start costs a few nanoseconds, where going
// through time.Time costs several times more (see BenchmarkStart). The
// algorithms count in 400-year eras with March-based years, so that the leap
// day is the last day of a year and needs no special case.

const (
	daysPerEra      = 146097 // days in 400 Gregorian years
	daysEpochToEra0 = 719468 // days from 0000-03-01 to 1970-01-01
)

// civilFromDays returns the year, month (1-12) and day (1-31) of day d.
func civilFromDays(d int64) (year, month, day int64) {
	z := d + daysEpochToEra0
	era := z / daysPerEra
	if z < 0 && z%daysPerEra != 0 {
		era--
	}
	doe := z - era*daysPerEra                              // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365], from March 1
	mp := (5*doy + 2) / 153                                // [0, 11], March = 0
	day = doy - (153*mp+2)/5 + 1                           // [1, 31]
	month = mp + 3
	if month > 12 {
		month -= 12
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

// daysFromCivil returns the day number of year-month-day; month is 1-12.
func daysFromCivil(year, month, day int64) int64 {
	if month <= 2 {
		year--
	}
	era := year / 400
	if year < 0 && year%400 != 0 {
		era--
	}
	yoe := year - era*400 // [0, 399]
	mp := month - 3       // March = 0
	if mp < 0 {
		mp += 12
	}
	doy := (153*mp+2)/5 + day - 1          // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*daysPerEra + doe - daysEpochToEra0
}

// weekStartDay returns the Monday on or before day d. Day 0 (1970-01-01) was a
// Thursday, three days after a Monday.
func weekStartDay(d int64) int64 {
	wd := (d + 3) % 7 // days since Monday
	if wd < 0 {
		wd += 7
	}
	return d - wd
}

// monthStartDay returns the first day of the month containing day d.
func monthStartDay(d int64) int64 {
	_, m := monthYearStartDays(d)
	return m
}

// yearStartDay returns January 1 of the year containing day d.
func yearStartDay(d int64) int64 {
	y, _ := monthYearStartDays(d)
	return y
}

// monthYearStartDays returns the first day of the year and of the month
// containing day d. It is civilFromDays stopped early: the year start
// follows from the March-based day of year, with no second calendar
// conversion, which halves the cost of a year start and lets AppendKeys
// get both from one computation.
func monthYearStartDays(d int64) (yearStart, monthStart int64) {
	z := d + daysEpochToEra0
	era := z / daysPerEra
	if z < 0 && z%daysPerEra != 0 {
		era--
	}
	doe := z - era*daysPerEra
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100) // from March 1
	march1 := d - doy
	mp := (5*doy + 2) / 153
	monthStart = march1 + (153*mp+2)/5
	if doy >= 306 { // January or February: the year began 306 days after March 1
		return march1 + 306, monthStart
	}
	// March to December: the year began 59 days (60 in a leap year) before
	// March 1. The era is a multiple of 400 years, so yoe decides leapness.
	feb := int64(59)
	if yoe%4 == 0 && (yoe%100 != 0 || yoe == 0) {
		feb = 60
	}
	return march1 - feb, monthStart
}

// isLeap reports whether year is a Gregorian leap year: every fourth year,
// except centuries not divisible by 400 (2000 was leap, 2100 will not be).
func isLeap(year int64) bool {
	return year%4 == 0 && (year%100 != 0 || year%400 == 0)
}

func daysInYear(year int64) int64 {
	if isLeap(year) {
		return 366
	}
	return 365
}

func daysInMonth(year, month int64) int64 {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
